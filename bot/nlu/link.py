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
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from ..http1 import Answer, no_delay

IDLE_RECONNECT = 2.0  # seconds: a connection idle this long is replaced (the server may be closing it)


class NLUHTTPError(RuntimeError):
    """The NLU server answered with an error status (after the retries)."""


class NotThere(Exception):
    """HTTP 404: the server has no batch endpoint (plain Rasa)."""


class _Connection(asyncio.Protocol):
    """One TCP connection of a slot; its events reach the slot only while it is the slot's current one
    (the late events of a dropped connection are ignored)."""

    def __init__(self, slot: Slot):
        self.slot = slot
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        no_delay(transport)

    def data_received(self, data: bytes) -> None:
        if self.slot.connection is self:
            self.slot._data(data)
        else:
            self.transport.close()

    def eof_received(self) -> bool | None:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        if self.slot.connection is self:
            self.slot._lost(exc)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


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
        self.connection: _Connection | None = None
        self.batch: list | None = None  # [(text, future), ...] out now
        self.answer: Answer | None = None
        self.attempt = 0
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task | None = None  # connecting, or waiting to retry
        self.last_used = 0.0
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
        for handle in (self.timer, self.task):
            if handle is not None:
                handle.cancel()
        self._disconnect()

    # -- sending ---------------------------------------------------------------------------------------
    def _go(self) -> None:
        """Writes the batch out (taken now if this is not a retry), connecting first if need be."""
        connection = self.connection
        if (connection is not None and not connection.transport.is_closing()
                and time.monotonic() - self.last_used < IDLE_RECONNECT):
            self._write()
            return
        self._disconnect()
        self.task = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        connection = _Connection(self)
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
        self.answer = Answer()
        self.connection.transport.write(self.head + b"%d\r\n\r\n" % len(body) + body)
        self.last_used = time.monotonic()
        self.timer = asyncio.get_running_loop().call_later(self.timeout, self._timed_out)

    def _disconnect(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    # -- the connection's events -----------------------------------------------------------------------
    def _data(self, data: bytes) -> None:
        answer = self.answer
        if answer is None:  # nothing asked: the server should not talk
            self._disconnect()
            return
        try:
            complete = answer.feed(data)
        except (ValueError, ConnectionError) as exc:
            self._drop(exc)
            return
        if complete:
            self._answered(answer)

    def _lost(self, exc: Exception | None) -> None:
        self.connection = None
        answer, self.answer = self.answer, None
        if self.batch is None or answer is None:
            return
        if answer.ended():
            self._answered(answer)
            return
        self._cancel_timer()
        self._failed(exc or ConnectionError("the NLU server closed the connection"))

    # -- outcomes --------------------------------------------------------------------------------------
    def _answered(self, answer: Answer) -> None:
        self._cancel_timer()
        self.answer = None
        self.last_used = time.monotonic()
        if answer.close:
            self._disconnect()
        batch = self.batch
        if answer.status == 404:
            self.batch = None
            self.done(self, batch, None, NotThere())
            return
        if answer.status >= 400:
            self._failed(NLUHTTPError(f"the NLU server answered HTTP {answer.status}"))
            return
        try:
            body = json.loads(answer.body)
            results = body["results"] if len(batch) > 1 else [body]
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

    def _timed_out(self) -> None:
        self.timer = None
        self._drop(asyncio.TimeoutError())

    def _drop(self, error: BaseException) -> None:
        """The exchange failed on this connection: it is closed (its late bytes must not be read as the
        next answer), and the request is retried or failed."""
        self._cancel_timer()
        self.answer = None
        self._disconnect()
        self._failed(error)

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
