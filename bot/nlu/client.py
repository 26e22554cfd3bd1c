"""The HTTP adapter to the Rasa server. Nothing of Rasa leaks past it: `nlu_fallback` is turned into a
flag, the ranking keeps only real intents.

It posts to /webhooks/safesafar/parse, the micro-batching endpoint of nlu/safesafar_batch.py (same
answer as /model/parse, several times the throughput under load); a Rasa server without that channel
answers 404 there, and the client then uses /model/parse for good."""
from __future__ import annotations

import asyncio
import json

import aiohttp

from ..understanding import NLUResult

FALLBACK = "nlu_fallback"
BATCH_PATH = "/webhooks/safesafar/parse"
PLAIN_PATH = "/model/parse"


def from_rasa(payload: dict) -> NLUResult:
    ranking = [(r["name"], float(r.get("confidence") or 0.0)) for r in payload.get("intent_ranking") or []
               if r.get("name") and r["name"] != FALLBACK]
    top = payload.get("intent") or {}
    fallback = top.get("name") == FALLBACK
    if not ranking and top.get("name") and not fallback:
        ranking = [(top["name"], float(top.get("confidence") or 0.0))]
    entities = [
        {"entity": e["entity"], "value": e.get("value"), "start": int(e["start"]), "end": int(e["end"])}
        for e in payload.get("entities") or [] if "start" in e and "end" in e
    ]
    intent, confidence = ranking[0] if ranking else (None, 0.0)
    return NLUResult(intent=intent, confidence=confidence, ranking=ranking, entities=entities, fallback=fallback)


class NLUHTTPError(RuntimeError):
    """The NLU server answered with an error status (after the retries)."""


class RasaNLU:
    """Async client (aiohttp: about a third of httpx's CPU per call, see bench/http_clients.py); one
    connection pool per event loop, shared by all concurrent requests in it. Transport errors and
    error statuses are retried `retries` times, then raised."""

    def __init__(self, url: str, timeout: float = 10.0, retries: int = 2, max_connections: int = 16):
        self.url = url.rstrip("/")
        self.retries = retries
        self.timeout, self.max_connections = timeout, max_connections
        self._sessions: dict[int, aiohttp.ClientSession] = {}
        self.path = BATCH_PATH

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(id(loop))
        if session is None or session.closed:
            session = self._sessions[id(loop)] = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_connections),
                timeout=aiohttp.ClientTimeout(total=self.timeout), cookie_jar=aiohttp.DummyCookieJar())
        return session

    async def parse(self, text: str) -> NLUResult:
        attempt = 0
        while True:
            try:
                async with self._session().post(self.url + self.path, json={"text": text}) as response:
                    if response.status == 404 and self.path == BATCH_PATH:
                        self.path = PLAIN_PATH  # a Rasa server without nlu/safesafar_batch.py
                        continue
                    body = await response.read()
                    if response.status >= 400:
                        raise NLUHTTPError(f"the NLU server answered HTTP {response.status}")
                return from_rasa(json.loads(body))
            except (aiohttp.ClientError, asyncio.TimeoutError, NLUHTTPError):
                attempt += 1
                if attempt > self.retries:
                    raise
                await asyncio.sleep(0.2 * attempt)

    async def aclose(self) -> None:
        """Closes the pool of the running loop (pools of loops already closed are dropped)."""
        session = self._sessions.pop(id(asyncio.get_running_loop()), None)
        if session is not None:
            await session.close()
        self._sessions.clear()
