"""Text is cleaned to valid UTF-8 at the edge of every channel, and a turn never hangs on the NLU: the
terminal chat fed invalid UTF-8 (which Python reads as lone surrogates) answers every line, against a
working NLU and one that answers garbage; Telegram answers with escaped lone surrogates are cleaned."""
from __future__ import annotations

import json
import os
import subprocess

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.config import ROOT
from bot.nlu.client import BATCH_PATH
from tests.http_stub import serve


def _stand_in_rasa(seen: list, broken: bool):
    async def status(request):
        return JSONResponse({"model_file": "stand-in.tar.gz"})

    async def parse(request):
        raw = await request.body()
        seen.append(raw.decode("utf-8"))  # strict: the client sent valid UTF-8
        if broken:
            return Response(b"\xff not json", media_type="application/json")
        body = json.loads(raw)
        answers = [{"text": t, "intent": {"name": "greet", "confidence": 0.95},
                    "intent_ranking": [{"name": "greet", "confidence": 0.95}], "entities": []}
                   for t in body.get("texts") or [body["text"]]]
        return JSONResponse({"results": answers} if "texts" in body else answers[0])

    return Starlette(routes=[Route("/status", status), Route(BATCH_PATH, parse, methods=["POST"])])


@pytest.mark.parametrize("broken", [False, True], ids=["nlu works", "nlu answers garbage"])
def test_the_terminal_chat_answers_invalid_utf8_and_never_hangs(tmp_path, broken):
    seen: list[str] = []
    with serve(_stand_in_rasa(seen, broken)) as url:
        env = dict(os.environ, NLU_URL=url, NLU_AUTOSTART="false", NLU_TIMEOUT="2",
                   DATABASE_URL=f"sqlite:///{tmp_path}/chat.db", CONSOLE_AUTOSTART="false", LC_ALL="C.UTF-8")
        env.pop("TELEGRAM_BOT_TOKEN", None)
        proc = subprocess.run([str(ROOT / ".venv" / "bin" / "safesafar"), "run", "--console"], env=env, cwd=ROOT,
                              input=b"hello \xff\xfe there\nsalam \xed\xa0\x80 bhai\n/quit\n",
                              capture_output=True, timeout=90)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    out = proc.stdout.decode("utf-8")  # strict: what the chat wrote is valid UTF-8
    assert out.count("\n\n") >= 1 and len(out.strip()) > 40, out  # two answers, not a hang or a crash
    if not broken:
        texts = [t for body in seen for t in (json.loads(body).get("texts") or [json.loads(body)["text"]])]
        assert len(texts) == 2 and all("\ufffd" in t for t in texts), texts
    else:
        assert seen, "the NLU was asked"


def test_a_telegram_answer_with_escaped_lone_surrogates_is_cleaned():
    from bot.telegram.polling import PollingRequest

    update = {"update_id": 7, "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"},
                                          "from": {"id": 5, "is_bot": False, "first_name": "A\udcff"},
                                          "text": "hi \ud800 there \U0001F600"}}
    payload = json.dumps({"ok": True, "result": [update]}).encode() + b" "  # escaped: \ud800, \ud83d\ude00
    polling = PollingRequest()
    data = polling.parse_json_payload(payload)
    raw = polling.take_answer(7)[7]
    for got in (data["result"][0], raw):
        assert got["message"]["text"] == "hi \ufffd there \U0001F600"
        assert got["message"]["from"]["first_name"] == "A\ufffd"
        json.dumps(got, ensure_ascii=False).encode("utf-8")  # storable, sendable
    broken = PollingRequest().parse_json_payload(b'{"ok": true, "result": [{"update_id": 8, "x": "\xff"}]}')
    assert broken["result"][0]["x"] == "\ufffd"  # invalid bytes: python-telegram-bot replaces them
