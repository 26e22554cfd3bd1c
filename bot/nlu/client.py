"""The HTTP adapter to Rasa's /model/parse. Nothing of Rasa leaks past it: `nlu_fallback` is turned
into a flag, the ranking keeps only real intents."""
from __future__ import annotations

import asyncio

import httpx

from ..understanding import NLUResult

FALLBACK = "nlu_fallback"


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


class RasaNLU:
    """Async client; one connection pool per event loop, shared by all concurrent requests in it."""

    def __init__(self, url: str, timeout: float = 10.0, retries: int = 2, max_connections: int = 16):
        self.url = url.rstrip("/")
        self.retries = retries
        self.timeout, self.max_connections = timeout, max_connections
        self._clients: dict[int, httpx.AsyncClient] = {}

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(id(loop))
        if client is None or client.is_closed:
            limits = httpx.Limits(max_connections=self.max_connections, max_keepalive_connections=self.max_connections)
            client = self._clients[id(loop)] = httpx.AsyncClient(timeout=self.timeout, limits=limits)
        return client

    async def parse(self, text: str) -> NLUResult:
        attempt = 0
        while True:
            try:
                response = await self._client().post(f"{self.url}/model/parse", json={"text": text})
                response.raise_for_status()
                return from_rasa(response.json())
            except (httpx.TransportError, httpx.HTTPStatusError):
                attempt += 1
                if attempt > self.retries:
                    raise
                await asyncio.sleep(0.2 * attempt)

    async def aclose(self) -> None:
        """Closes the pool of the running loop (pools of loops already closed are dropped)."""
        client = self._clients.pop(id(asyncio.get_running_loop()), None)
        if client is not None:
            await client.aclose()
        self._clients.clear()
