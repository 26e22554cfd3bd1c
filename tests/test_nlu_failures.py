"""Nothing on the NLU path may hang: a failure at any step of the client (connecting, encoding, writing,
reading, a server that never answers, an error status, a body that is not JSON or not the answer)
reaches every waiting caller as an NLUError within the timeout, those in the request and those queued
behind it; the client works again afterwards, and a turn then answers as it does while the NLU is down.
The network is httpx's MockTransport (the public way to put a transport under httpx.AsyncClient)."""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from bot.config import ROOT
from bot.contract import load_contract
from bot.language import LanguageIdentifier
from bot.nlu import client as client_module
from bot.nlu.client import NLUError, RasaNLU
from bot.safety import DangerNet
from bot.understanding import Understander

TIMEOUT = 1.0  # the client's bound
GUARD = 5.0  # the test's: a caller still waiting after this has hung


def _answer(text: str) -> dict:
    return {"text": text, "intent": {"name": "greet", "confidence": 0.9},
            "intent_ranking": [{"name": "greet", "confidence": 0.9}], "entities": []}


def _good(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    if "texts" in body:
        return httpx.Response(200, json={"results": [_answer(t) for t in body["texts"]]})
    return httpx.Response(200, json=_answer(body["text"]))


async def _hang(request: httpx.Request) -> httpx.Response:
    await asyncio.Event().wait()


def _raises(error):
    def handler(request: httpx.Request) -> httpx.Response:
        raise error("injected", request=request)
    return handler


STEPS = {
    "connect": _raises(httpx.ConnectError),
    "connect timeout": _raises(httpx.ConnectTimeout),
    "write": _raises(httpx.WriteError),
    "read": _raises(httpx.ReadError),
    "connection lost": _raises(httpx.RemoteProtocolError),
    "never answers": _hang,
    "error status": lambda request: httpx.Response(500, json={"error": "boom"}),
    "not JSON": lambda request: httpx.Response(200, content=b"<html>proxy error</html>"),
    "not UTF-8": lambda request: httpx.Response(200, content=b"\xff\xfe{"),
    "fewer results": lambda request: httpx.Response(200, json={"results": []}),
    "a list, not an object": lambda request: httpx.Response(200, json=[1, 2]),
    "results not objects": lambda request: httpx.Response(200, json={"results": ["a", "b", "c", "d"]}),
    "a field of the wrong type": lambda request: httpx.Response(200, json={"intent_ranking": 5, "entities": 3}),
}


class Switch:
    """The transport's handler, changed by the test: one failure, then the good server again."""

    def __init__(self, handler):
        self.handler, self.requests = handler, 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        outcome = self.handler(request)
        return await outcome if asyncio.iscoroutine(outcome) else outcome


@pytest.mark.parametrize("step", [*STEPS, "encode"])
def test_a_failure_at_each_step_reaches_every_waiting_caller(step, monkeypatch):
    switch = Switch(_good if step == "encode" else STEPS[step])
    if step == "encode":  # the body cannot be made (a lone surrogate once did this)
        def broken(body):
            raise UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed")
        monkeypatch.setattr(client_module, "_encode", broken)

    async def run():
        client = RasaNLU("http://nlu.test", timeout=TIMEOUT, retries=1, in_flight=1, max_batch=2,
                         transport=httpx.MockTransport(switch))
        try:
            # 7 callers at once: a batch of 2 out, 5 queued behind it (three more batches)
            outcomes = await asyncio.wait_for(asyncio.gather(*(client.parse(f"m{i}") for i in range(7)),
                                                             return_exceptions=True), GUARD)
            monkeypatch.undo()
            switch.handler = _good
            after = await asyncio.wait_for(client.parse("hello again"), GUARD)
            return outcomes, after
        finally:
            await client.aclose()

    outcomes, after = asyncio.run(run())
    assert len(outcomes) == 7
    assert all(isinstance(o, NLUError) for o in outcomes), outcomes
    assert after.intent == "greet", "the client works again once the server does"


def test_callers_queued_behind_a_request_that_never_ends_get_the_error_within_the_timeout():
    """One request hangs (in_flight=1): the callers queued behind it are not sent anywhere, and still
    each gets an NLUError within the timeout, not after the hanging one."""
    async def run():
        loop = asyncio.get_running_loop()
        client = RasaNLU("http://nlu.test", timeout=TIMEOUT, retries=0, in_flight=1, max_batch=1,
                         transport=httpx.MockTransport(_hang))
        try:
            first = asyncio.ensure_future(client.parse("first"))
            await asyncio.sleep(0.3)
            started = loop.time()
            queued = await asyncio.wait_for(asyncio.gather(*(client.parse(f"q{i}") for i in range(3)),
                                                           return_exceptions=True), GUARD)
            waited = loop.time() - started
            return await asyncio.wait_for(asyncio.gather(first, return_exceptions=True), GUARD), queued, waited
        finally:
            await client.aclose()

    first, queued, waited = asyncio.run(run())
    assert isinstance(first[0], NLUError) and all(isinstance(o, NLUError) for o in queued)
    assert waited < GUARD


def test_a_lone_surrogate_goes_to_the_nlu_as_a_replacement_character():
    """Undecodable input that got past a channel is not an error for the whole batch."""
    seen: list = []

    def handler(request):
        seen.append(json.loads(request.content))
        return _good(request)

    async def run():
        client = RasaNLU("http://nlu.test", transport=httpx.MockTransport(handler), in_flight=1)
        try:
            return await asyncio.wait_for(asyncio.gather(client.parse("bad \udcff byte"), client.parse("fine")), GUARD)
        finally:
            await client.aclose()

    results = asyncio.run(run())
    assert [r.intent for r in results] == ["greet", "greet"]
    assert seen == [{"texts": ["bad \ufffd byte", "fine"]}]


def test_a_turn_answers_as_during_an_outage_when_the_nlu_fails():
    """Through the real client: an understander of a conversation channel gets an unsure answer, the
    danger phrases alone deciding urgency; `classify`'s strict understander raises."""
    parts = (LanguageIdentifier.from_training_data(ROOT / "nlu" / "data"),
             DangerNet.from_file(ROOT / "content" / "safety" / "danger_lexicon.yml"), load_contract())

    async def run():
        client = RasaNLU("http://nlu.test", timeout=TIMEOUT, retries=0,
                         transport=httpx.MockTransport(STEPS["not JSON"]))
        try:
            tolerant = Understander(client, *parts, tolerate_nlu_outage=True)
            calm = await asyncio.wait_for(tolerant.understand("what documents do i need for a visa"), GUARD)
            danger = await asyncio.wait_for(tolerant.understand("they locked my brother in a room in tripoli"), GUARD)
            with pytest.raises(NLUError):
                await asyncio.wait_for(Understander(client, *parts).understand("hello"), GUARD)
            return calm, danger
        finally:
            await client.aclose()

    calm, danger = asyncio.run(run())
    assert calm.fallback and calm.priority is None
    assert danger.priority == "urgent"


def test_never_more_than_in_flight_requests_out():
    """Texts that arrive together beyond one batch wait for a free request: at most `in_flight` out."""
    out = {"now": 0, "most": 0}

    async def handler(request):
        out["now"] += 1
        out["most"] = max(out["most"], out["now"])
        await asyncio.sleep(0.02)
        out["now"] -= 1
        return _good(request)

    async def run():
        client = RasaNLU("http://nlu.test", in_flight=2, max_batch=2, transport=httpx.MockTransport(handler))
        try:
            return await asyncio.wait_for(asyncio.gather(*(client.parse(f"m{i}") for i in range(11))), GUARD)
        finally:
            await client.aclose()

    results = asyncio.run(run())
    assert len(results) == 11 and all(r.intent == "greet" for r in results)
    assert out["most"] == 2
