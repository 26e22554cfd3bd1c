"""A bare HTTP/1.1 server on 127.0.0.1 for tests of the bot's own HTTP/1.1 client (bot/http1.py): it
answers with the exact bytes a test scripts, closes connections or never answers."""
from __future__ import annotations

import asyncio
from collections.abc import Callable


async def raw_server(script: Callable[[int, bytes], bytes | str | None]):
    """For the n-th request (counted over all connections, from 1) with body `body`, `script(n, body)`
    gives the bytes to answer with, None to close the connection without an answer, or "hang" to never
    answer. Returns (server, port, [(connection number, body) of each request])."""
    requests: list[tuple[int, bytes]] = []
    connections = [0]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections[0] += 1
        number = connections[0]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length")), 0)
                body = await reader.readexactly(length)
                requests.append((number, body))
                out = script(len(requests), body)
                if out == "hang":
                    await asyncio.sleep(30)
                if out is None or out == "hang":
                    break
                writer.write(out)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], requests
