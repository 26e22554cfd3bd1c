"""The micro-batching NLU endpoint (nlu/safesafar_batch.py) answers exactly what /model/parse answers,
and the client uses it, falling back to /model/parse on a Rasa server without it."""
from __future__ import annotations

import asyncio
import json
import subprocess

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.config import ROOT
from bot.nlu.client import BATCH_PATH, PLAIN_PATH, NLUError, RasaNLU
from bot.nlu.data import read_tsv
from bot.nlu.train import current_model
from tests.http_stub import serve

HELDOUT = [e.text for p in sorted((ROOT / "nlu" / "heldout").glob("*.tsv")) for e in read_tsv(p)]


def _same(a: dict, b: dict) -> None:
    assert a["text"] == b["text"]
    assert a["intent"]["name"] == b["intent"]["name"], a["text"]
    assert abs(a["intent"]["confidence"] - b["intent"]["confidence"]) < 1e-5, a["text"]
    assert [r["name"] for r in a["intent_ranking"]] == [r["name"] for r in b["intent_ranking"]], a["text"]
    for x, y in zip(a["intent_ranking"], b["intent_ranking"]):
        assert abs(x["confidence"] - y["confidence"]) < 1e-5
    assert a["entities"] == b["entities"], a["text"]


def _in_nlu_venv(settings, script: str, texts: list[str]) -> list[dict]:
    proc = subprocess.run(
        [str(settings.nlu_venv / "bin" / "python"), "-c", script, str(current_model(settings)),
         str(settings.nlu_project)],
        input=json.dumps(texts), capture_output=True, text=True, timeout=600,
        env={"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3", "LOG_LEVEL": "WARNING",
             "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_batched_graph_run_equals_plain_rasa(settings):
    """In the NLU environment: plain Rasa (without safesafar_batch, whose patches are process-wide)
    parses 160 held-out messages one by one; with safesafar_batch the model parses them in batches of
    16 (DIET's batched process, the one-step sparse feature join) and one by one. All must agree."""
    plain_script = r"""
import asyncio, json, sys
from rasa.core.agent import Agent
agent = Agent.load(sys.argv[1])
texts = json.loads(sys.stdin.read())
print("RESULT " + json.dumps([asyncio.run(agent.parse_message(t)) for t in texts], default=float))
"""
    patched_script = r"""
import asyncio, json, sys
sys.path.insert(0, sys.argv[2])
import safesafar_batch
from rasa.core.agent import Agent
agent = Agent.load(sys.argv[1])
texts = json.loads(sys.stdin.read())
single = [asyncio.run(agent.parse_message(t)) for t in texts]
batched = [r for i in range(0, len(texts), 16) for r in safesafar_batch.parse_batch(agent, texts[i:i + 16])]
print("RESULT " + json.dumps({"single": single, "batched": batched}, default=float))
"""
    texts = HELDOUT[::max(1, len(HELDOUT) // 160)][:160]
    plain = _in_nlu_venv(settings, plain_script, texts)
    patched = _in_nlu_venv(settings, patched_script, texts)
    assert len(plain) == len(patched["single"]) == len(patched["batched"]) == len(texts)
    for a, b, c in zip(plain, patched["single"], patched["batched"]):
        _same(a, b)
        _same(a, c)
    assert len({r["intent"]["name"] for r in plain}) > 10  # a real spread of intents, not one


def test_batch_endpoint_answers_like_model_parse_under_concurrency(rasa_url):
    texts = HELDOUT[:96] + ["/emergency", "", "ok"]

    async def run():
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=200)) as session:
            async def post(path, text):
                response = await session.post(rasa_url + path, json={"text": text})
                assert response.status_code == 200, (path, text, response.status_code)
                return response.json()

            plain = [await post(PLAIN_PATH, t) for t in texts]
            batched = await asyncio.gather(*(post(BATCH_PATH, t) for t in texts))  # all at once
            many = await session.post(rasa_url + BATCH_PATH, json={"texts": texts[:20]})
            assert many.status_code == 200
            together = many.json()["results"]
            assert (await session.post(rasa_url + BATCH_PATH, json={"no": "text"})).status_code == 400
            assert (await session.post(rasa_url + BATCH_PATH, json={"texts": ["ok", 3]})).status_code == 400
            counts = (await session.get(rasa_url + "/webhooks/safesafar/")).json()
            return plain, batched, together, counts

    plain, batched, together, counts = asyncio.run(run())
    for a, b in zip(plain, batched):
        _same(a, b)
    assert len(together) == 20
    for a, b in zip(plain, together):  # one request with 20 texts: 20 answers, in order
        _same(a, b)
    assert batched[texts.index("/emergency")]["intent"]["name"] == "emergency"  # Rasa's own "/" path
    assert counts["messages"] > counts["batches"] > 0  # concurrent requests were parsed together


def _answer(text: str) -> dict:
    intent = "greet" if text in ("hello", "salam") else f"t_{text}"
    return {"text": text, "intent": {"name": intent, "confidence": 0.9},
            "intent_ranking": [{"name": intent, "confidence": 0.9}, {"name": "nlu_fallback", "confidence": 0.05}],
            "entities": []}


def _fake_rasa(with_batch: bool, fail: int = 0, delay: float = 0.0, bodies: list | None = None):
    """A stand-in Rasa server (serve it with tests/http_stub.serve): /model/parse (and the batch path,
    with {"texts": [...]}, if `with_batch`); the first `fail` requests get HTTP 500; each answer takes
    `delay` seconds."""
    seen: list[str] = []
    bodies = bodies if bodies is not None else []

    async def parse(request):
        seen.append(request.url.path)
        if len(seen) <= fail:
            return JSONResponse({"error": "boom"}, status_code=500)
        body = await request.json()
        bodies.append(body)
        await asyncio.sleep(delay)
        if "texts" in body and request.url.path == BATCH_PATH:
            return JSONResponse({"results": [_answer(t) for t in body["texts"]]})
        return JSONResponse(_answer(body["text"]))

    routes = [Route(PLAIN_PATH, parse, methods=["POST"])]
    if with_batch:
        routes.append(Route(BATCH_PATH, parse, methods=["POST"]))
    return Starlette(routes=routes), seen


@pytest.mark.parametrize("with_batch", [True, False])
def test_client_uses_the_batch_endpoint_or_falls_back(with_batch):
    async def run(url):
        client = RasaNLU(url)
        try:
            return [await client.parse("hello"), await client.parse("salam")]
        finally:
            await client.aclose()

    app, seen = _fake_rasa(with_batch)
    with serve(app) as url:
        results = asyncio.run(run(url))
    assert [r.intent for r in results] == ["greet", "greet"]
    assert all(r.ranking == [("greet", 0.9)] for r in results)  # nlu_fallback never leaves the client
    if with_batch:
        assert seen == [BATCH_PATH, BATCH_PATH]
    else:  # one 404 on the batch path (not recorded by the stand-in), then /model/parse for good
        assert seen == [PLAIN_PATH, PLAIN_PATH]


@pytest.mark.parametrize("with_batch", [True, False])
def test_client_sends_texts_that_arrive_meanwhile_together(with_batch):
    """One request out at a time: a first text goes alone, the 29 that come while it is out go together
    in the next request, and every caller gets the answer to its own text. Against a plain Rasa server
    each text is its own /model/parse request."""
    texts = [f"m{i}" for i in range(30)]

    async def run(url):
        client = RasaNLU(url, in_flight=1)
        try:
            first = asyncio.ensure_future(client.parse(texts[0]))
            await asyncio.sleep(0.05)  # its request is out (the server takes 150 ms)
            rest = asyncio.gather(*(client.parse(t) for t in texts[1:]))  # they come while it is out
            return [await first, *await rest]
        finally:
            await client.aclose()

    bodies: list = []
    app, seen = _fake_rasa(with_batch, delay=0.15, bodies=bodies)
    with serve(app) as url:
        results = asyncio.run(run(url))
    assert [r.intent for r in results] == [f"t_{t}" for t in texts]
    if with_batch:
        assert bodies == [{"text": "m0"}, {"texts": texts[1:]}]
    else:
        assert seen == [PLAIN_PATH] * 30 and sorted(b["text"] for b in bodies) == sorted(texts)


def test_client_sends_the_texts_of_one_turn_of_the_loop_together():
    """Texts that come in the same turn of the event loop (the turns started by one getUpdates answer)
    go in one request, even to an idle client; a text that comes alone later goes alone, at once."""
    async def run(url):
        client = RasaNLU(url, in_flight=1)
        try:
            await client.parse("first")  # connected, and idle again
            together = await asyncio.gather(*(client.parse(f"m{i}") for i in range(3)))
            alone = await client.parse("later")
            return together, alone
        finally:
            await client.aclose()

    bodies: list = []
    app, _ = _fake_rasa(True, bodies=bodies)
    with serve(app) as url:
        together, alone = asyncio.run(run(url))
    assert [r.intent for r in together] == ["t_m0", "t_m1", "t_m2"] and alone.intent == "t_later"
    assert bodies == [{"text": "first"}, {"texts": ["m0", "m1", "m2"]}, {"text": "later"}]


def test_client_sends_at_most_max_batch_texts_per_request(monkeypatch):
    """NLU_MAX_BATCH (4 by default) caps a request: the texts that wait go in requests of at most that
    many, in order, one after the other; every caller gets its own answer."""
    from bot.config import Settings
    from bot.services import build_understander

    assert Settings.from_env().nlu_max_batch == 4
    monkeypatch.setenv("NLU_MAX_BATCH", "3")
    settings = Settings.from_env()
    _, configured = build_understander(settings, "http://127.0.0.1:9")
    assert configured.max_batch == 3
    texts = [f"m{i}" for i in range(8)]

    async def run(url):
        client = RasaNLU(url, in_flight=1, max_batch=settings.nlu_max_batch)
        try:
            first = asyncio.ensure_future(client.parse(texts[0]))
            await asyncio.sleep(0.05)  # its request is out
            rest = await asyncio.gather(*(client.parse(t) for t in texts[1:]))
            return [await first, *rest]
        finally:
            await client.aclose()

    bodies: list = []
    app, _ = _fake_rasa(True, delay=0.1, bodies=bodies)
    with serve(app) as url:
        results = asyncio.run(run(url))
    assert [r.intent for r in results] == [f"t_{t}" for t in texts]
    assert bodies == [{"text": "m0"}, {"texts": texts[1:4]}, {"texts": texts[4:7]}, {"text": "m7"}]


def test_client_gives_every_waiting_caller_the_error():
    async def run(url):
        client = RasaNLU(url, retries=0, in_flight=1)
        try:
            return await asyncio.gather(*(client.parse(f"m{i}") for i in range(5)), return_exceptions=True)
        finally:
            await client.aclose()

    app, seen = _fake_rasa(True, fail=100, delay=0.02)
    with serve(app) as url:
        outcomes = asyncio.run(run(url))
    assert len(outcomes) == 5 and all(isinstance(o, NLUError) for o in outcomes)
    assert len(seen) == 1  # asked at the same moment: one request for the five


def test_client_retries_errors_then_raises():
    def run(fail, retries):
        async def main(url):
            client = RasaNLU(url, retries=retries)
            try:
                return await client.parse("hello")
            finally:
                await client.aclose()

        app, seen = _fake_rasa(True, fail=fail)
        with serve(app) as url:
            return asyncio.run(main(url)), seen

    result, seen = run(fail=2, retries=2)
    assert result.intent == "greet" and len(seen) == 3
    with pytest.raises(NLUError):
        run(fail=5, retries=1)


def test_client_sends_the_next_batch_before_waking_the_callers_of_the_last():
    """A caller woken with its answer goes on with synchronous work (the database, the replies). The
    texts that came meanwhile must already be on their way to the NLU by then, not wait behind it; and
    the caller is woken as soon as that request is written, not when it is answered."""
    import time

    arrivals: list[tuple[str, float]] = []
    answered: list[tuple[str, float]] = []

    async def parse(request):
        body = await request.json()
        arrivals.append((json.dumps(body), time.monotonic()))
        await asyncio.sleep(0.05)
        answered.append((json.dumps(body), time.monotonic()))
        texts = body.get("texts") or [body["text"]]
        results = [_answer(t) for t in texts]
        return JSONResponse({"results": results} if "texts" in body else results[0])

    async def run(url) -> dict:
        client = RasaNLU(url, in_flight=1)
        done_at: dict = {}

        async def first() -> None:
            await client.parse("m0")
            done_at["resumed"] = time.monotonic()
            time.sleep(0.2)  # a turn's synchronous work after its answer
            done_at["m0"] = time.monotonic()

        try:
            task = asyncio.ensure_future(first())
            await asyncio.sleep(0.02)  # m0's request is out
            later = asyncio.ensure_future(client.parse("m1"))
            await asyncio.gather(task, later)
        finally:
            await client.aclose()
        return done_at

    with serve(Starlette(routes=[Route(BATCH_PATH, parse, methods=["POST"])])) as url:
        done_at = asyncio.run(run(url))
    second = [at for body, at in arrivals if "m1" in body]
    second_answered = [at for body, at in answered if "m1" in body]
    assert len(second) == 1 and second[0] < done_at["m0"]  # m1 reached the server during m0's work
    assert done_at["resumed"] < second_answered[0]  # m0's caller did not wait for m1's answer


def test_client_retries_a_lost_connection_then_gives_every_caller_the_error():
    """A connection lost without an answer: the same texts go again; a server that never answers: each
    caller gets an NLUError within the timeout; an error status or a body that is not the answer (fewer
    results than texts) is retried, then raised to every caller."""
    def run(handler, retries, timeout=5.0):
        async def main(url):
            client = RasaNLU(url, in_flight=1, retries=retries, timeout=timeout)
            try:
                return await asyncio.gather(*(client.parse(f"m{i}") for i in range(3)), return_exceptions=True)
            finally:
                await client.aclose()

        requests: list = []

        async def parse(request):
            requests.append(await request.json())
            return await handler(len(requests), requests[-1])

        with serve(Starlette(routes=[Route(BATCH_PATH, parse, methods=["POST"])])) as url:
            return asyncio.run(main(url)), requests

    async def dies_first(n, body):
        if n == 1:
            raise ConnectionResetError  # uvicorn drops the connection without an answer
        return JSONResponse({"results": [_answer(t) for t in body["texts"]]})

    out, requests = run(dies_first, retries=1)
    assert [r.intent for r in out] == ["t_m0", "t_m1", "t_m2"]
    assert requests == [{"texts": ["m0", "m1", "m2"]}] * 2

    async def hangs(n, body):
        await asyncio.sleep(30)

    out, requests = run(hangs, retries=5, timeout=0.5)
    assert all(isinstance(o, NLUError) for o in out) and len(requests) == 1

    async def fails(n, body):
        return JSONResponse({"error": "x"}, status_code=500)

    out, requests = run(fails, retries=2)
    assert all(isinstance(o, NLUError) for o in out) and len(requests) == 3

    async def short(n, body):
        return JSONResponse({"results": []})

    out, _ = run(short, retries=0)
    assert all(isinstance(o, NLUError) for o in out)


def test_client_nothing_listening_is_an_error_for_every_caller():
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def run():
        client = RasaNLU(f"http://127.0.0.1:{port}", in_flight=1, retries=1)
        try:
            return await asyncio.gather(*(client.parse(f"m{i}") for i in range(3)), return_exceptions=True)
        finally:
            await client.aclose()

    out = asyncio.run(run())
    assert all(isinstance(o, NLUError) and isinstance(o.__cause__, httpx.ConnectError) for o in out)
