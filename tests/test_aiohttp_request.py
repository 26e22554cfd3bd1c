"""python-telegram-bot over bot/telegram/aiohttp_request.py: parameters, uploads and the errors
python-telegram-bot expects (TimedOut, NetworkError, RetryAfter), against a server on 127.0.0.1."""
from __future__ import annotations

import asyncio
import socket
from datetime import timedelta

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TimedOut

from bot.telegram.aiohttp_request import AiohttpRequest
from tests.raw_http import raw_server

ME = {"id": 1, "is_bot": True, "first_name": "T", "username": "t_bot"}


def _message(chat_id: int, text: str | None = None, document: dict | None = None) -> dict:
    message = {"message_id": 7, "date": 0, "chat": {"id": chat_id, "type": "private"}, "from": ME}
    if text is not None:
        message["text"] = text
    if document is not None:
        message["document"] = document
    return message


def _server(received: list):
    async def method(request):
        name = request.match_info["method"]
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            received.append((name, {k: (v.file.read() if hasattr(v, "file") else v) for k, v in form.items()}))
        elif request.content_type == "application/json":  # the Bot API takes JSON bodies as well as forms
            received.append((name, await request.json()))
        else:
            received.append((name, dict(await request.post())))
        params = received[-1][1]
        if name == "getMe":
            return web.json_response({"ok": True, "result": ME})
        if name == "sendMessage":
            if params.get("text") == "slow":
                await asyncio.sleep(2)
            if params.get("text") == "flood":
                return web.json_response({"ok": False, "error_code": 429, "description": "Too Many Requests",
                                          "parameters": {"retry_after": 3}}, status=429)
            return web.json_response({"ok": True, "result": _message(int(params["chat_id"]), params["text"])})
        if name == "sendDocument":
            return web.json_response({"ok": True, "result": _message(
                int(params["chat_id"]), document={"file_id": "f", "file_unique_id": "u", "file_name": "a.txt"})})
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    app = web.Application()
    app.router.add_post("/botTOKEN/{method}", method)
    return app


def test_requests_uploads_and_errors():
    async def run():
        received: list = []
        runner = web.AppRunner(_server(received))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        bot = Bot("TOKEN", base_url=f"http://127.0.0.1:{port}/bot",
                  request=AiohttpRequest(read_timeout=0.5, connect_timeout=1),
                  get_updates_request=AiohttpRequest(connection_pool_size=1))
        try:
            await bot.initialize()
            sent = await bot.send_message(42, "سلام <b>", reply_markup=None)
            assert sent.text == "سلام <b>" and sent.chat.id == 42
            assert received[-1] == ("sendMessage", {"chat_id": "42", "text": "سلام <b>"})
            document = await bot.send_document(42, document=b"file body", filename="a.txt", caption="c")
            assert document.document.file_name == "a.txt"
            name, form = received[-1]
            assert name == "sendDocument" and form["document"] == b"file body" and form["caption"] == "c"
            with pytest.raises(TimedOut):
                await bot.send_message(42, "slow")
            with pytest.raises(RetryAfter) as flood:
                await bot.send_message(42, "flood")
            assert flood.value.retry_after in (3, timedelta(seconds=3))
        finally:
            await bot.shutdown()
            await runner.cleanup()

    asyncio.run(run())


def test_connection_refused_is_a_network_error_not_a_timeout():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]

    async def run():
        bot = Bot("TOKEN", base_url=f"http://127.0.0.1:{closed}/bot", request=AiohttpRequest(),
                  get_updates_request=AiohttpRequest(connection_pool_size=1))
        async with bot:  # initialize() asks getMe
            pass
    with pytest.raises(NetworkError) as error:
        asyncio.run(run())
    assert type(error.value) is NetworkError and "ConnectionRefusedError" in str(error.value)


def test_uninitialized_request_is_refused():
    async def run():
        await AiohttpRequest().do_request("http://127.0.0.1:1/x", "POST")
    with pytest.raises(RuntimeError, match="not initialized"):
        asyncio.run(run())


# -- API calls without files: bot/http1.py's keep-alive connections -----------------------------------
async def _raw_server(script):
    """tests/raw_http.py's server under /bot: `script(n)` answers the n-th request. Returns (server, base
    URL, [(connection number, body) of each request])."""
    import json

    def answer(n, body):
        if body:
            json.loads(body)  # the parameters went as JSON
        return script(n)

    server, port, requests = await raw_server(answer)
    return server, f"http://127.0.0.1:{port}/bot", requests


def _ok(result, close: bool = False) -> bytes:
    import json

    body = json.dumps({"ok": True, "result": result}).encode()
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + (b"Connection: close\r\n" if close else b"")
            + b"Content-Length: %d\r\n\r\n" % len(body) + body)


def test_calls_keep_their_connection_and_survive_a_closing_server():
    async def run():
        def script(n):
            if n == 1:
                return _ok(ME)
            return _ok(_message(42, f"m{n}"), close=n == 3)
        server, base, seen = await _raw_server(script)
        bot = Bot("TOKEN", base_url=base, request=AiohttpRequest(), get_updates_request=AiohttpRequest())
        try:
            async with bot:
                texts = [(await bot.send_message(42, f"x{i}")).text for i in range(4)]
        finally:
            server.close()
        return texts, seen

    texts, seen = asyncio.run(run())
    assert texts == ["m2", "m3", "m4", "m5"]
    assert [number for number, _ in seen] == [1, 1, 1, 2, 2]  # getMe and two messages on one connection; the third answer closed it


def test_a_dropped_connection_is_a_network_error_and_the_next_call_reconnects():
    async def run():
        server, base, seen = await _raw_server(lambda n: None if n == 2 else _ok(ME if n == 1 else _message(42, "ok")))
        bot = Bot("TOKEN", base_url=base, request=AiohttpRequest(), get_updates_request=AiohttpRequest())
        try:
            async with bot:
                with pytest.raises(NetworkError) as dropped:
                    await bot.send_message(42, "lost")
                after = await bot.send_message(42, "again")
        finally:
            server.close()
        return dropped.value, after, seen

    dropped, after, seen = asyncio.run(run())
    assert type(dropped) is NetworkError and "closed the connection" in str(dropped)
    assert after.text == "ok" and [number for number, _ in seen] == [1, 1, 2]


def test_a_full_pool_times_out_as_telegram_expects():
    async def run():
        release = asyncio.Event()
        server = await asyncio.start_server(lambda r, w: release.wait(), "127.0.0.1", 0)  # never answers
        request = AiohttpRequest(connection_pool_size=1, read_timeout=5, pool_timeout=0.2)
        await request.initialize()
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/botTOKEN/getMe"
        try:
            first = asyncio.ensure_future(request.do_request(url, "POST"))
            await asyncio.sleep(0.05)
            with pytest.raises(TimedOut):
                await request.do_request(url, "POST")  # the one connection is busy
            first.cancel()
        finally:
            await request.shutdown()
            release.set()
            server.close()

    asyncio.run(run())


def test_a_cancelled_call_frees_its_connection_for_the_next():
    """python-telegram-bot cancels the long poll when it stops: the connection is dropped (its late
    answer must not be read as another call's), and the pool's one slot is free again."""
    async def run():
        server, base, seen = await _raw_server(lambda n: "hang" if n == 1 else _ok(ME))
        request = AiohttpRequest(connection_pool_size=1, read_timeout=5, pool_timeout=1)
        await request.initialize()
        try:
            pending = asyncio.ensure_future(request.do_request(f"{base}TOKEN/getUpdates", "POST"))
            await asyncio.sleep(0.1)
            pending.cancel()
            status, body = await request.do_request(f"{base}TOKEN/getMe", "POST")
        finally:
            await request.shutdown()
            server.close()
        return status, body, seen

    status, body, seen = asyncio.run(run())
    assert status == 200 and b'"t_bot"' in body
    assert [number for number, _ in seen] == [1, 2]  # the second call on a new connection
