"""The batch path's connections to the NLU server: HTTP/1.1 keep-alive connections written and read by
asyncio protocols, each carrying one request at a time.

Why not aiohttp here: under load the bot's event loop is busy most of the time, and each hop through its
ready queue (the answer's headers wake the request task, its end wakes the sender, the sender's next
request starts in a new task, its write is awaited) waited behind the turns of other users. Measured
with the Telegram benchmark at 16 users: the NLU server sat idle 27 ms between batches (mean) for a
parse of 23 ms. Here the answer is parsed in `data_received`, and in that same callback the texts
that came meanwhile are written as the next request, before the callers of the answer are woken: no
hop between one batch's answer and the next batch's request.

A `Slot` is one request at a time on one connection (reconnected when lost or idle too long); it takes
its work from its owner (`take()`, when it can write: texts that come while it connects go along) and
tells the outcome (`done(slot, batch, results, error)`). Errors
(refused, lost, timed out, HTTP >= 500, a bad body) are retried with a pause of 0.2 s times the
attempt, `retries` times."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from urllib.parse import urlsplit

from ..http1 import Exchange

IDLE_RECONNECT = 2.0  # seconds: a connection idle this long is replaced (the server may be closing it)


class NLUHTTPError(RuntimeError):
    """The NLU server answered with an error status (after the retries)."""


class NotThere(Exception):
    """HTTP 404: the server has no batch endpoint (plain Rasa)."""


class Slot:
    """One request at a time on one keep-alive connection to `url` (the batch endpoint)."""

    def __init__(self, url: str, timeout: float, retries: int, take: Callable[[], list],
                 done: Callable[[Slot, list, list | None, BaseException | None], None]):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = parts.scheme == "https"
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        netloc = parts.netloc.rsplit("@", 1)[-1]
        self.head = (f"POST {target} HTTP/1.1\r\nHost: {netloc}\r\nContent-Type: application/json\r\n"
                     f"Accept: application/json\r\nContent-Length: ").encode()
        self.timeout, self.retries, self.take, self.done = timeout, retries, take, done
        self.connection: Exchange | None = None
        self.batch: list | None = None  # [(text, future), ...] out now
        self.attempt = 0
        self.task: asyncio.Task | None = None  # connecting, or waiting to retry
        self.closed = False

    @property
    def busy(self) -> bool:
        return self.batch is not None or self.task is not None

    # -- the owner's side ----------------------------------------------------------------------------
    def start(self) -> None:
        """Sends what `take()` gives ([(text, future), ...]), now if connected, else once connected;
        `done` is called with the outcome."""
        assert not self.busy, "one request at a time"
        self.attempt = 0
        self._go()

    def close(self) -> None:
        self.closed = True
        if self.task is not None:
            self.task.cancel()
        self._disconnect()

    # -- sending ---------------------------------------------------------------------------------------
    def _go(self) -> None:
        """Writes the batch out (taken now if this is not a retry), connecting first if need be."""
        if self.connection is not None and self.connection.reusable(IDLE_RECONNECT):
            self._write()
            return
        self._disconnect()
        self.task = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        connection = Exchange(self._answered)
        try:
            await asyncio.wait_for(loop.create_connection(lambda: connection, self.host, self.port,
                                                          ssl=self.ssl or None), self.timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            self.task = None
            if self.batch is None:  # a first attempt: the texts waiting now share the error (or retry)
                self.batch = self.take() or None
            self._failed(exc)
            return
        self.task = None
        if self.closed:
            connection.close()
            return
        self.connection = connection
        self._write()

    def _write(self) -> None:
        if self.batch is None:
            self.batch = self.take() or None
            if self.batch is None:
                return  # nothing is waiting any more
        texts = [text for text, _ in self.batch]
        body = json.dumps({"texts": texts} if len(texts) > 1 else {"text": texts[0]},
                          ensure_ascii=False).encode()
        self.connection.send(self.head + b"%d\r\n\r\n" % len(body) + body, self.timeout)

    def _disconnect(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    # -- outcomes --------------------------------------------------------------------------------------
    def _answered(self, status: int | None, body: bytes | None, error: BaseException | None) -> None:
        """The connection's outcome of the request: an answer, or an error (lost, timed out, not HTTP;
        the connection closed itself)."""
        batch = self.batch
        if self.closed or batch is None:
            return
        if error is not None:
            self._failed(error)
            return
        if status == 404:
            self.batch = None
            self.done(self, batch, None, NotThere())
            return
        if status >= 400:
            self._failed(NLUHTTPError(f"the NLU server answered HTTP {status}"))
            return
        try:
            answer = json.loads(body)
            results = answer["results"] if len(batch) > 1 else [answer]
            if not isinstance(results, list) or len(results) != len(batch):
                raise NLUHTTPError(f"the NLU server gave {len(results)} answers for {len(batch)} texts")
        except (ValueError, KeyError, TypeError, NLUHTTPError) as exc:
            self._failed(exc if isinstance(exc, NLUHTTPError) else NLUHTTPError(f"a bad answer: {exc!r}"))
            return
        self.batch = None
        self.done(self, batch, results, None)

    def _failed(self, error: BaseException) -> None:
        if self.closed or self.batch is None:
            return
        self.attempt += 1
        if self.attempt > self.retries:
            batch, self.batch = self.batch, None
            self.done(self, batch, None, error)
            return
        self.task = asyncio.get_running_loop().create_task(self._retry(0.2 * self.attempt))

    async def _retry(self, pause: float) -> None:
        await asyncio.sleep(pause)
        self.task = None
        if not self.closed:
            self._go()
