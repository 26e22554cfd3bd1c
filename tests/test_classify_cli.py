"""The classification contract, end to end: `.venv/bin/safesafar classify` against the real model."""
import json
import os
import subprocess

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.rasa
FIELDS = {"text", "language", "intent", "confidence", "entities", "escalate", "priority"}


def classify(binary, data: bytes, url: str, timeout=600, extra_env=None):
    env = dict(os.environ, NLU_URL=url, **(extra_env or {}))
    return subprocess.run([str(binary), "classify"], input=data, capture_output=True, env=env, timeout=timeout)


def test_contract_fields_order_and_escalation(safesafar_bin, rasa_url):
    lines = [
        "my brother is locked in a room in Tripoli, they want 20 lakh",
        "I want to report an agent who took 5 lakh rupees from me",
        "can i talk to a real person from the helpline",
        "agent Saudia ki job ke liye 3 lakh mang raha hai",
        "ایجنٹ کہتا ہے سعودی عرب میں نوکری ہے، کیا یہ اصلی ہے؟",
    ]
    proc = classify(safesafar_bin, ("\n".join(lines) + "\n").encode(), rasa_url)
    assert proc.returncode == 0, proc.stderr.decode()
    out = [json.loads(l) for l in proc.stdout.decode().splitlines()]
    assert [o["text"] for o in out] == lines
    for o in out:
        assert FIELDS <= set(o)
        assert o["language"] in ("en", "ur", "ur-Latn") and 0.0 <= o["confidence"] <= 1.0
        for ent in o["entities"]:
            assert o["text"][ent["start"]:ent["end"]]
    assert out[0]["priority"] == "urgent" and out[0]["escalate"] is True
    assert out[1]["intent"] == "report_suspect" and out[1]["priority"] == "high"
    assert out[2]["intent"] == "ask_human" and out[2]["priority"] == "normal"
    assert [o["language"] for o in out[2:]] == ["en", "ur-Latn", "ur"]
    countries = [e["value"] for o in out for e in o["entities"] if e["entity"] == "country"]
    assert countries.count("Saudi Arabia") == 2 and "Libya" in countries
    amounts = {e["value"]: e for o in out for e in o["entities"] if e["entity"] == "amount"}
    assert amounts["3 lakh"]["number"] == 300000 and "20 lakh" in amounts and "5 lakh rupees" in amounts


def test_bad_input_never_breaks_the_stream(safesafar_bin, rasa_url):
    lines = [b"", b"x" * 10000, "🙏🙏🙏".encode(), "help\u200b\u200b me".encode(), b"\xff\xfe broken \xc3(",
             "mera beta Italy جانا چاہتا ہے".encode(), b"/emergency", b"   ", "﷽".encode()]
    proc = classify(safesafar_bin, b"\n".join(lines) + b"\n", rasa_url)
    assert proc.returncode == 0, proc.stderr.decode()
    out = [json.loads(l) for l in proc.stdout.decode().splitlines()]
    assert len(out) == len(lines)
    assert out[0]["intent"] is None and out[0]["error"] == "empty message" and out[0]["escalate"] is False
    assert len(out[1]["text"]) == 10000
    assert "\ufffd" in out[4]["text"] and b"line 5" in proc.stderr
    assert out[5]["language"] == "ur"
    assert not (out[6]["intent"] == "emergency" and out[6]["confidence"] == 1.0)  # not Rasa's "/intent" shortcut
    assert out[7]["error"] == "empty message"


def test_thousand_lines_in_one_call(safesafar_bin, rasa_url, heldout):
    texts = [e.text for rows in heldout.values() for e in rows][:1000]
    proc = classify(safesafar_bin, ("\n".join(texts) + "\n").encode(), rasa_url)
    assert proc.returncode == 0, proc.stderr.decode()
    out = [json.loads(l) for l in proc.stdout.decode().splitlines()]
    assert [o["text"] for o in out] == texts


def test_starts_its_own_server_and_stops_it(safesafar_bin):
    url = f"http://127.0.0.1:{free_port()}"
    proc = classify(safesafar_bin, "hello\n".encode(), url)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout.decode())["intent"] == "greet"
    from bot.nlu.server import server_status
    assert server_status(url) is None  # stopped on exit


def test_clear_error_when_no_server_can_be_had(safesafar_bin):
    proc = classify(safesafar_bin, b"hello\n", "http://127.0.0.1:9", extra_env={"NLU_AUTOSTART": "false"})
    assert proc.returncode == 2
    assert b"no NLU server answers at http://127.0.0.1:9" in proc.stderr
