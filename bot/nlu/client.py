"""The HTTP adapter to the Rasa server. Nothing of Rasa leaks past it: `nlu_fallback` is turned into a
flag, the ranking keeps only real intents.

It posts to /webhooks/safesafar/parse, the micro-batching endpoint of nlu/safesafar_batch.py (same
answer as /model/parse, several times the throughput under load), several texts per request under load;
a Rasa server without that channel answers 404 there, and the client then uses /model/parse for good."""
from __future__ import annotations

import asyncio
import json

import aiohttp

from ..futures import settle
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


class _Queue:
    """Per event loop: texts waiting for a request, and how many requests are out."""

    def __init__(self) -> None:
        self.waiting: list[tuple[str, asyncio.Future]] = []
        self.active = 0
        self.tasks: set[asyncio.Task] = set()


async def _on_written(session, context, params) -> None:
    written = (context.trace_request_ctx or {}).get("written")
    if written is not None and not written.done():
        written.set_result(None)


_WRITTEN = aiohttp.TraceConfig()
_WRITTEN.on_request_chunk_sent.append(_on_written)  # the JSON body (one chunk): the request is written
_WRITTEN.on_request_end.append(_on_written)
_WRITTEN.on_request_exception.append(_on_written)
_WRITTEN.freeze()


class RasaNLU:
    """Async client (aiohttp: about a third of httpx's CPU per call, see bench/http_clients.py); one
    connection pool per event loop, shared by all concurrent requests in it. Transport errors and
    error statuses are retried `retries` times, then raised.

    Texts are coalesced: at most `in_flight` requests are out at once, and the texts that arrive
    meanwhile go together in the next one ({"texts": [...]}). An idle client sends a text at once; under
    load, batches grow by themselves and the NLU server parses each in one run (see
    nlu/safesafar_batch.py), with one HTTP exchange instead of one per text."""

    def __init__(self, url: str, timeout: float = 10.0, retries: int = 2, max_connections: int = 16,
                 in_flight: int = 2, max_batch: int = 32):
        self.url = url.rstrip("/")
        self.retries = retries
        self.timeout, self.max_connections = timeout, max_connections
        self.in_flight, self.max_batch = max(1, in_flight), max(1, max_batch)
        self._sessions: dict[int, aiohttp.ClientSession] = {}
        self._queues: dict[int, _Queue] = {}
        self.path = BATCH_PATH

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(id(loop))
        if session is None or session.closed:
            session = self._sessions[id(loop)] = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_connections),
                timeout=aiohttp.ClientTimeout(total=self.timeout), cookie_jar=aiohttp.DummyCookieJar(),
                trace_configs=[_WRITTEN])
        return session

    async def parse(self, text: str) -> NLUResult:
        if self.path != BATCH_PATH:
            return from_rasa(await self._post(text))
        loop = asyncio.get_running_loop()
        queue = self._queues.get(id(loop))
        if queue is None:
            queue = self._queues[id(loop)] = _Queue()
        future = loop.create_future()
        queue.waiting.append((text, future))
        if queue.active < self.in_flight:
            queue.active += 1
            task = loop.create_task(self._drain(queue))
            queue.tasks.add(task)
            task.add_done_callback(queue.tasks.discard)
        return from_rasa(await future)

    async def _drain(self, queue: _Queue) -> None:
        """Sends what is waiting, as long as something is. The next request is written before the callers
        of the one that came back are woken: their turns go on with synchronous work (the database, the
        replies), and the next batch waited behind it (measured: a third of each NLU round trip)."""
        loop = asyncio.get_running_loop()
        batch = self._take(queue)
        request = loop.create_task(self._post_many([text for text, _ in batch]))
        upcoming: asyncio.Task | None = None
        try:
            while True:
                error = results = None
                try:
                    results = await request
                except BaseException as exc:  # noqa: BLE001 - every waiting caller gets the error
                    error = exc
                if isinstance(error, asyncio.CancelledError):
                    settle((future for _, future in batch), error=error)
                    raise error
                following = self._take(queue) if queue.waiting else None
                if following:
                    written = loop.create_future()
                    upcoming = loop.create_task(self._post_many([text for text, _ in following], written))
                    try:
                        await asyncio.wait((written, upcoming), return_when=asyncio.FIRST_COMPLETED)
                    except asyncio.CancelledError as cancelled:
                        upcoming.cancel()
                        settle((future for _, future in batch), error=cancelled)
                        settle((future for _, future in following), error=cancelled)
                        raise
                settle((future for _, future in batch), results, error=error)
                if not following:
                    return
                batch, request, upcoming = following, upcoming, None
        finally:
            queue.active -= 1

    def _take(self, queue: _Queue) -> list[tuple[str, asyncio.Future]]:
        batch = queue.waiting[:self.max_batch]
        del queue.waiting[:self.max_batch]
        return batch

    async def _post_many(self, texts: list[str], written: asyncio.Future | None = None) -> list[dict]:
        """written: set once the request is written to the socket."""
        if self.path == BATCH_PATH:
            body = await self._request({"texts": texts} if len(texts) > 1 else {"text": texts[0]}, written)
            if body is not None:
                results = body["results"] if len(texts) > 1 else [body]
                if len(results) != len(texts):
                    raise NLUHTTPError(f"the NLU server gave {len(results)} answers for {len(texts)} texts")
                return results
        return list(await asyncio.gather(*(self._post(text, written) for text in texts)))  # a plain Rasa server

    async def _post(self, text: str, written: asyncio.Future | None = None) -> dict:
        body = await self._request({"text": text}, written)
        return body if body is not None else await self._request({"text": text}, written)

    async def _request(self, payload: dict, written: asyncio.Future | None = None) -> dict | None:
        """POSTs to the current path with retries. None: the batching endpoint is not there (404), and
        the client switched to /model/parse for good."""
        attempt = 0
        while True:
            path = self.path
            try:
                async with self._session().post(self.url + path, json=payload,
                                                trace_request_ctx={"written": written}) as response:
                    if response.status == 404 and path == BATCH_PATH:
                        self.path = PLAIN_PATH  # a Rasa server without nlu/safesafar_batch.py
                        return None
                    body = await response.read()
                    if response.status >= 400:
                        raise NLUHTTPError(f"the NLU server answered HTTP {response.status}")
                return json.loads(body)
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
