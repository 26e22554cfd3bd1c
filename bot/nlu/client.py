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
from .link import NLUHTTPError, NotThere, Slot

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


class _Pipe:
    """Per event loop: the texts waiting for a request, and the slots (connections) that carry them."""

    def __init__(self, client: RasaNLU):
        self.client = client
        self.waiting: list[tuple[str, asyncio.Future]] = []
        self.slots = [Slot(client.url + BATCH_PATH, client.timeout, client.retries, self._take, self._done)
                      for _ in range(client.in_flight)]
        self.tasks: set[asyncio.Task] = set()
        self.kick: asyncio.Handle | None = None

    def add(self, text: str, future: asyncio.Future) -> None:
        """Queues a text. An idle slot sends at the end of this turn of the event loop, so that the texts
        of the turns that run in it go together: the updates of one getUpdates answer start their turns
        in one turn of the loop, and a first text sent at once made the others wait for its whole parse.
        Measured at 100 updates/s of text (bench/telegram_e2e.py --offered 100): p95 from update to reply
        105-184 ms over 7 runs sending at once (median 177), 80-145 ms over 6 runs this way (median 89)."""
        self.waiting.append((text, future))
        if self.kick is None and any(not slot.busy for slot in self.slots):
            self.kick = asyncio.get_running_loop().call_soon(self._start_idle)

    def _start_idle(self) -> None:
        self.kick = None
        for slot in self.slots:
            if not self.waiting:
                break
            if not slot.busy:
                slot.start()

    def _take(self) -> list[tuple[str, asyncio.Future]]:
        batch = self.waiting[:self.client.max_batch]
        del self.waiting[:self.client.max_batch]
        return batch

    def _done(self, slot: Slot, batch: list, results: list | None, error: BaseException | None) -> None:
        """A slot's request ended. The texts that came meanwhile are written first, then the callers of
        this one are woken (their turns go on with synchronous work that the next batch must not wait
        behind)."""
        if isinstance(error, NotThere):  # a Rasa server without nlu/safesafar_batch.py
            self.client.path = PLAIN_PATH
            waiting, self.waiting = batch + self.waiting, []
            for text, future in waiting:
                task = asyncio.get_running_loop().create_task(self._plain(text, future))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
            return
        if self.waiting and not slot.closed:
            slot.start()
        settle((future for _, future in batch), results, error=error)

    async def _plain(self, text: str, future: asyncio.Future) -> None:
        try:
            result = await self.client._post(text)
        except Exception as exc:  # noqa: BLE001 - the caller gets it
            settle([future], error=exc)
        else:
            settle([future], [result])

    def close(self) -> None:
        if self.kick is not None:
            self.kick.cancel()
            self.kick = None
        for slot in self.slots:
            batch = slot.batch
            slot.close()
            if batch:
                settle((future for _, future in batch), error=NLUHTTPError("the NLU client was closed"))
        settle((future for _, future in self.waiting), error=NLUHTTPError("the NLU client was closed"))
        self.waiting = []
        for task in self.tasks:
            task.cancel()


class RasaNLU:
    """Async client; per event loop, `in_flight` keep-alive connections to the batch endpoint
    (bot/nlu/link.py) and an aiohttp pool for a plain Rasa server. Transport errors and error statuses
    are retried `retries` times, then raised.

    Texts are coalesced: at most `in_flight` requests are out at once, and the texts that arrive
    meanwhile go together in the next one ({"texts": [...]}). An idle client sends a text at once; under
    load, batches grow by themselves and the NLU server parses each in one run (see
    nlu/safesafar_batch.py), with one HTTP exchange instead of one per text. The next batch is written
    in the same callback that reads the answer to the last, before its callers are woken."""

    def __init__(self, url: str, timeout: float = 10.0, retries: int = 2, max_connections: int = 16,
                 in_flight: int = 2, max_batch: int = 32):
        self.url = url.rstrip("/")
        self.retries = retries
        self.timeout, self.max_connections = timeout, max_connections
        self.in_flight, self.max_batch = max(1, in_flight), max(1, max_batch)
        self._sessions: dict[int, aiohttp.ClientSession] = {}
        self._pipes: dict[int, _Pipe] = {}
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
        if self.path != BATCH_PATH:
            return from_rasa(await self._post(text))
        loop = asyncio.get_running_loop()
        pipe = self._pipes.get(id(loop))
        if pipe is None:
            pipe = self._pipes[id(loop)] = _Pipe(self)
        future = loop.create_future()
        pipe.add(text, future)
        return from_rasa(await future)

    async def _post(self, text: str) -> dict:
        """One text to a plain Rasa server's /model/parse, with retries."""
        attempt = 0
        while True:
            try:
                async with self._session().post(self.url + PLAIN_PATH, json={"text": text}) as response:
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
        """Closes the connections of the running loop (those of loops already closed are dropped);
        callers still waiting get an error."""
        loop_id = id(asyncio.get_running_loop())
        pipe = self._pipes.pop(loop_id, None)
        if pipe is not None:
            pipe.close()
        session = self._sessions.pop(loop_id, None)
        if session is not None:
            await session.close()
        self._sessions.clear()
        self._pipes.clear()
