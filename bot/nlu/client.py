"""The HTTP adapter to the Rasa server (httpx). Nothing of Rasa leaks past it: `nlu_fallback` is turned
into a flag, the ranking keeps only real intents.

It posts to /webhooks/safesafar/parse, the micro-batching endpoint of nlu/safesafar_batch.py (same
answer as /model/parse, several times the throughput under load), several texts per request under load;
a Rasa server without that channel answers 404 there, and the client then uses /model/parse for good.

Every failure (connecting, encoding, writing, reading, a timeout, an error status, a body that is not
JSON or not the answer, the client closing) reaches every caller waiting on it as an `NLUError`, and no
caller waits longer than `timeout` seconds in all: the conversation channels then answer as they do
while the NLU is down."""
from __future__ import annotations

import asyncio
import json

import httpx

from ..futures import settle
from ..text import valid_utf8
from ..understanding import NLUResult

FALLBACK = "nlu_fallback"
BATCH_PATH = "/webhooks/safesafar/parse"
PLAIN_PATH = "/model/parse"
_JSON = {"Content-Type": "application/json", "Accept": "application/json"}


class NLUError(RuntimeError):
    """The NLU gave no usable answer for a text (after the retries, or within the timeout)."""


NLUHTTPError = NLUError  # the earlier name


class _NotThere(Exception):
    """HTTP 404 on the batch path: a plain Rasa server (without nlu/safesafar_batch.py)."""


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


def _encode(body: dict) -> bytes:
    """The request body. A lone surrogate (undecodable input that got past a channel) becomes U+FFFD
    instead of an error."""
    return valid_utf8(json.dumps(body, ensure_ascii=False)).encode()


def _answers(payload, count: int) -> list[dict]:
    """The answers of one response, one per text, checked for shape."""
    results = payload.get("results") if count > 1 and isinstance(payload, dict) else [payload]
    if not isinstance(results, list) or len(results) != count or not all(
            isinstance(r, dict) and isinstance(r.get("intent"), dict) for r in results):
        raise NLUError(f"the NLU server's answer does not hold {count} results")
    return results


class _Pipe:
    """Per event loop: the httpx client, the texts waiting for a request, and at most `in_flight`
    requests out (each a task that, once answered, sends what came meanwhile)."""

    def __init__(self, client: RasaNLU):
        self.client = client
        self.http = httpx.AsyncClient(
            timeout=client.timeout, transport=client.transport,
            limits=httpx.Limits(max_connections=client.max_connections,
                                max_keepalive_connections=client.max_connections))
        self.waiting: list[tuple[str, asyncio.Future]] = []
        self.out: list[list[tuple[str, asyncio.Future]]] = []  # the batches of the requests out now
        self.running = 0
        self.tasks: set[asyncio.Task] = set()
        self.kick: asyncio.Handle | None = None

    def add(self, text: str, future: asyncio.Future) -> None:
        """Queues a text. An idle client sends at the end of this turn of the event loop, so that the texts
        of the turns that run in it go together: the updates of one getUpdates answer start their turns
        in one turn of the loop, and a first text sent at once made the others wait for its whole parse."""
        self.waiting.append((text, future))
        if self.kick is None and self.running < self.client.in_flight:
            self.kick = asyncio.get_running_loop().call_soon(self._start_idle)

    def _start_idle(self) -> None:
        self.kick = None
        while self.running < self.client.in_flight:
            batch = self._take()
            if not batch:
                break
            self.running += 1  # until _carry ends
            self._spawn(self._carry(batch))

    def _spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _take(self) -> list[tuple[str, asyncio.Future]]:
        """The next batch: at most max_batch texts whose callers still wait."""
        self.waiting = [item for item in self.waiting if not item[1].done()]
        batch = self.waiting[:self.client.max_batch]
        del self.waiting[:self.client.max_batch]
        return batch

    async def _carry(self, batch: list[tuple[str, asyncio.Future]]) -> None:
        """One request out at a time, until nothing waits. The callers of an answer are woken once the
        next request (the texts that came meanwhile) is written, so that it does not wait behind their
        turns' synchronous work; at once when nothing else waits or the next request fails first."""
        answered: list = []  # [(batch, results)] whose callers are not woken yet

        async def wake(*_) -> None:
            while answered:
                done, results = answered.pop()
                settle((future for _, future in done), results)

        try:
            while batch:
                self.out.append(batch)
                try:
                    results = await self.client._exchange(self.http, BATCH_PATH, [t for t, _ in batch], wake)
                except _NotThere:
                    await wake()
                    self.client.path = PLAIN_PATH
                    for text, future in batch + self.waiting:
                        self._spawn(self._plain(text, future))
                    self.waiting = []
                    return
                except Exception as exc:  # noqa: BLE001 - every waiting caller gets it
                    await wake()
                    settle((future for _, future in batch), error=_as_nlu_error(exc))
                else:
                    await wake()
                    answered.append((batch, results))
                finally:
                    self.out.remove(batch)
                batch = self._take()
        finally:
            self.running -= 1
            await wake()

    async def _plain(self, text: str, future: asyncio.Future) -> None:
        try:
            result = await self.client._exchange(self.http, PLAIN_PATH, [text])
        except Exception as exc:  # noqa: BLE001 - the caller gets it
            settle([future], error=_as_nlu_error(exc))
        else:
            settle([future], result)

    async def close(self) -> None:
        if self.kick is not None:
            self.kick.cancel()
            self.kick = None
        closed = NLUError("the NLU client was closed")
        for batch in [*self.out, self.waiting]:
            settle((future for _, future in batch), error=closed)
        self.waiting = []
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.http.aclose()


def _as_nlu_error(exc: BaseException) -> NLUError:
    if isinstance(exc, NLUError):
        return exc
    error = NLUError(f"the NLU request failed: {type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error


class RasaNLU:
    """Async client over one httpx.AsyncClient per event loop. Transport errors, error statuses and bad
    answers are retried `retries` times (within `timeout`), then raised as NLUError.

    Texts are coalesced: at most `in_flight` requests are out at once, and the texts that arrive
    meanwhile go together in the next one ({"texts": [...]}, at most `max_batch`). An idle client sends
    at the end of the event loop's turn; under load, batches grow by themselves and the NLU server parses
    each in one run (see nlu/safesafar_batch.py), with one HTTP exchange instead of one per text.

    transport: an httpx transport instead of the network (tests inject failures with it)."""

    def __init__(self, url: str, timeout: float = 10.0, retries: int = 2, max_connections: int = 16,
                 in_flight: int = 2, max_batch: int = 32, transport: httpx.AsyncBaseTransport | None = None):
        self.url = url.rstrip("/")
        self.retries = retries
        self.timeout, self.max_connections = timeout, max(1, max_connections)
        self.in_flight, self.max_batch = max(1, in_flight), max(1, max_batch)
        self.transport = transport
        self._pipes: dict[int, _Pipe] = {}
        self.path = BATCH_PATH

    def _pipe(self) -> _Pipe:
        loop_id = id(asyncio.get_running_loop())
        pipe = self._pipes.get(loop_id)
        if pipe is None:
            pipe = self._pipes[loop_id] = _Pipe(self)
        return pipe

    async def parse(self, text: str) -> NLUResult:
        pipe = self._pipe()
        future = asyncio.get_running_loop().create_future()
        if self.path == BATCH_PATH:
            pipe.add(text, future)
        else:
            pipe._spawn(pipe._plain(text, future))
        try:
            async with asyncio.timeout(self.timeout):
                payload = await future
            return from_rasa(payload)
        except TimeoutError as exc:
            raise NLUError(f"no answer from the NLU within {self.timeout:g} s") from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise NLUError(f"a bad answer from the NLU: {type(exc).__name__}") from exc

    async def _exchange(self, http: httpx.AsyncClient, path: str, texts: list[str], on_sent=None) -> list[dict]:
        """POSTs the texts ({"text": ...} alone, {"texts": [...]} together) and returns one answer per
        text; retried, within the timeout. on_sent: awaited once the request is written (or failed)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        content = _encode({"texts": texts} if len(texts) > 1 else {"text": texts[0]})
        extensions = {}
        if on_sent is not None:
            async def trace(event: str, info: dict) -> None:
                if event.endswith("send_request_body.complete"):
                    await on_sent()
            extensions["trace"] = trace
        attempt = 0
        while True:
            try:
                async with asyncio.timeout_at(deadline):  # httpx's timeouts are per phase: this bounds it all
                    response = await http.post(self.url + path, content=content, headers=_JSON,
                                               timeout=max(0.001, deadline - loop.time()), extensions=extensions)
                if response.status_code == 404 and path == BATCH_PATH:
                    raise _NotThere()
                if response.status_code >= 400:
                    raise NLUError(f"the NLU server answered HTTP {response.status_code}")
                return _answers(response.json(), len(texts))
            except _NotThere:
                raise
            except Exception as exc:  # noqa: BLE001 - retried, then every caller gets it
                if on_sent is not None:
                    await on_sent()
                attempt += 1
                pause = 0.2 * attempt
                if attempt > self.retries or loop.time() + pause >= deadline:
                    raise _as_nlu_error(exc) from exc
                await asyncio.sleep(pause)

    async def aclose(self) -> None:
        """Closes the connections of the running loop (those of loops already closed are dropped);
        callers still waiting get an error."""
        pipe = self._pipes.pop(id(asyncio.get_running_loop()), None)
        if pipe is not None:
            await pipe.close()
        self._pipes.clear()
