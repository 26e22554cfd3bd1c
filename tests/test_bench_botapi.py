"""The benchmark's asyncio Bot API server (bench/botapi_async.py) answers like the tests' server: long
polling woken by a pushed update, offsets confirming updates, sendMessage recorded, unknown methods 404."""
from __future__ import annotations

import asyncio
import json
import time

import httpx

from bench.botapi_async import AsyncBotAPI
from tests.botapi_server import text_update


def test_long_polling_send_message_and_errors():
    async def run():
        server = AsyncBotAPI()
        await server.start()
        heard = []
        server.listeners.append(heard.append)
        try:
            async with httpx.AsyncClient(timeout=10) as session:
                async def call(method, **params):
                    response = await session.post(f"{server.base_url}123:T/{method}", json=params)
                    return response.status_code, response.json()

                assert (await call("getUpdates", offset=0, timeout=0))[1] == {"ok": True, "result": []}
                started = time.monotonic()
                poll = asyncio.ensure_future(call("getUpdates", offset=0, timeout=5))
                await asyncio.sleep(0.05)
                assert not poll.done()  # held: nothing to deliver yet
                first = server.push(text_update(11, "hello"))
                status, answer = await poll
                woken_after = time.monotonic() - started
                assert status == 200 and [u["update_id"] for u in answer["result"]] == [first]
                second = server.push(text_update(11, "again"))
                # the offset confirms the first: only the second comes
                status, answer = await call("getUpdates", offset=first + 1, timeout=5)
                assert [u["update_id"] for u in answer["result"]] == [second]
                assert answer["result"][0]["message"]["text"] == "again"

                markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "oc:yes"}]]}
                status, sent = await call("sendMessage", chat_id=11, text="<b>hi</b>", reply_markup=json.dumps(markup))
                assert status == 200 and sent["result"]["chat"]["id"] == 11
                status, missing = await call("noSuchMethod")
                assert status == 404 and missing["ok"] is False
                # a form-encoded call works too
                response = await session.post(f"{server.base_url}123:T/sendMessage",
                                              data={"chat_id": "12", "text": "form"})
                assert response.status_code == 200
        finally:
            await server.stop()
        return server, heard, woken_after

    server, heard, woken_after = asyncio.run(run())
    assert woken_after < 1.0  # woken by the push, not by the 5 s timeout
    assert [(m.chat_id, m.text, m.reply_markup) for m in server.messages_to(11)] == [
        (11, "<b>hi</b>", {"inline_keyboard": [[{"text": "Yes", "callback_data": "oc:yes"}]]})]
    assert server.count_to(12) == 1 and [m.chat_id for m in heard] == [11, 12]
    assert [c.method for c in server.calls].count("getUpdates") == 3
