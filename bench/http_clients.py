"""CPU per HTTP request of the two async clients the bot could use: httpx and aiohttp.

    .venv/bin/python bench/http_clients.py [--requests 2000] [--concurrency 8]

A Bot-API-like JSON server runs in a child process on 127.0.0.1; this process posts sendMessage-like
requests through each client and prints the client's own CPU time per request (time.process_time).
Why the bot uses aiohttp for python-telegram-bot and the NLU (bot/telegram/aiohttp_request.py).
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aiohttp
import httpx

BODY = b'{"ok":true,"result":{"message_id":1,"date":0,"chat":{"id":1,"type":"private"},"text":"hi"}}'


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


def serve(sock: socket.socket) -> None:
    server = ThreadingHTTPServer(sock.getsockname(), Handler, bind_and_activate=False)
    server.socket = sock
    server.serve_forever()


async def measure(name: str, url: str, requests: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)
    payload = {"chat_id": 1, "text": "hello"}
    if name == "httpx":
        client = httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency))

        async def one():
            async with gate:
                (await client.post(url, data=payload)).content
    else:
        client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))

        async def one():
            async with gate:
                async with client.post(url, data=payload) as response:
                    await response.read()
    try:
        await asyncio.gather(*(one() for _ in range(100)))  # warm-up: connections open
        started = time.process_time()
        await asyncio.gather(*(one() for _ in range(requests)))
        return (time.process_time() - started) / requests * 1000
    finally:
        await (client.aclose() if name == "httpx" else client.close())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/botTOKEN/sendMessage"
    server = multiprocessing.get_context("fork").Process(target=serve, args=(sock,), daemon=True)
    server.start()
    try:
        for name in ("httpx", "aiohttp"):
            ms = asyncio.run(measure(name, url, args.requests, args.concurrency))
            print(f"{name:8} {ms:.2f} ms of client CPU per request ({args.concurrency} concurrent)")
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
