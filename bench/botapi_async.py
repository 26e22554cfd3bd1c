"""A lean Telegram Bot API server for the end-to-end benchmark: asyncio, in the benchmark's own event loop.

tests/botapi_server.py (threads, http.server, fault injection) is what the tests use. Under load it cost
the benchmark 2.3-2.7 ms of CPU per update (a thread per connection, http.server's header parsing, a
thread handing each reply to the users' loop), on the same 2 cores as the bot and Rasa, which
Telegram's own servers are not. This one serves the same state (tests/botapi_server.py's BotAPIState:
what is recorded and how every method but getUpdates answers) over HTTP/1.1 keep-alive read by an
asyncio protocol, and holds getUpdates long polls in the loop instead of a thread each.
"""
from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qs, urlsplit

from tests.botapi_server import BotAPIState, Call


class _Connection(asyncio.Protocol):
    def __init__(self, server: AsyncBotAPI):
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiting = False  # a long poll is pending: the next request waits for its answer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._forget(self)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._next()

    def _next(self) -> None:
        while not self.waiting:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            length, ctype = 0, ""
            for line in head[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "content-type":
                    ctype = value.strip()
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4:end + 4 + length])
            del self.buffer[:end + 4 + length]
            target = head[0].split(" ")[1]
            parts = urlsplit(target)
            params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            if body and "json" in ctype:
                params.update(json.loads(body))
            elif body:
                params.update({k: v[-1] for k, v in parse_qs(body.decode()).items()})
            self.server._request(self, parts.path.rsplit("/", 1)[-1], params)

    def reply(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.transport.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                             % (status, b"OK" if status == 200 else b"Error", len(data)) + data)


class AsyncBotAPI(BotAPIState):
    """`await server.start()` in the running loop; `server.base_url` for python-telegram-bot's base_url."""

    def __init__(self) -> None:
        super().__init__()
        self.polls: list[tuple[_Connection, int, int, asyncio.TimerHandle]] = []  # (conn, offset, limit, timer)
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    @property
    def state(self) -> AsyncBotAPI:  # the benchmark reads server.state, as with tests/botapi_server.py
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        self.server = await asyncio.get_running_loop().create_server(lambda: _Connection(self), "127.0.0.1", 0,
                                                                      backlog=128)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for _, _, _, timer in self.polls:
            timer.cancel()
        self.polls.clear()
        if self.server is not None:
            self.server.close()

    def push(self, update: dict) -> int:
        """BotAPIState.push, and the long polls waiting are answered."""
        update_id = super().push(update)
        polls, self.polls = self.polls, []
        for connection, offset, limit, timer in polls:
            timer.cancel()
            self._answer_poll(connection, offset, limit)
        return update_id

    async def wait_until(self, predicate, timeout: float = 30.0):
        """BotAPIState.wait_for without blocking the loop that serves the bot."""
        deadline = time.monotonic() + timeout
        while not (result := predicate()):
            if time.monotonic() > deadline:
                raise TimeoutError("the bot did not answer in time")
            await asyncio.sleep(0.02)
        return result

    # -- the Bot API -----------------------------------------------------------------------------------
    def _request(self, connection: _Connection, method: str, params: dict) -> None:
        if method != "getUpdates":
            status, payload = self.handle(method, params)
            self.calls.append(Call(method, params, time.monotonic(), ok=status == 200))
            connection.reply(status, payload)
            return
        self.calls.append(Call(method, params, time.monotonic()))
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        if offset:
            self.confirmed_offset = max(self.confirmed_offset, offset)
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if any(u["update_id"] >= offset for u in self.updates) or not float(params.get("timeout") or 0):
            self._answer_poll(connection, offset, limit)
            return
        connection.waiting = True
        timer = asyncio.get_running_loop().call_later(float(params["timeout"]), self._poll_timeout, connection)
        self.polls.append((connection, offset, limit, timer))

    def _answer_poll(self, connection: _Connection, offset: int, limit: int) -> None:
        ready = [u for u in self.updates if u["update_id"] >= offset][:limit]
        connection.waiting = False
        if connection.transport is not None and not connection.transport.is_closing():
            connection.reply(200, {"ok": True, "result": ready})
            connection._next()

    def _poll_timeout(self, connection: _Connection) -> None:
        for i, (conn, offset, limit, _) in enumerate(self.polls):
            if conn is connection:
                del self.polls[i]
                self._answer_poll(conn, offset, limit)
                return

    def _forget(self, connection: _Connection) -> None:
        for i, (conn, _, _, timer) in enumerate(self.polls):
            if conn is connection:
                timer.cancel()
                del self.polls[i]
                return
