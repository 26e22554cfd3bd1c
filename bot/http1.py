"""HTTP/1.1 over asyncio protocols, for the bot's hot paths: the answer to a request is read in
`data_received`, and a request is written at once by the caller (no task in between). Under load the
bot's event loop is busy most of the time, and every hop through its ready queue (a write task, the
headers, the body, the end of a request task) waits behind other users' turns; aiohttp takes several
per request on Python 3.11. Used by the NLU client's batch path (bot/nlu/link.py) and the Telegram
requests (bot/telegram/aiohttp_request.py, JSON requests only: uploads stay with aiohttp)."""
from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Callable
from urllib.parse import urlsplit


class Answer:
    """An HTTP/1.1 response read incrementally: Content-Length, chunked, or to the end of the connection."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.status: int | None = None
        self.length: int | None = None
        self.chunked = False
        self.close = False
        self.body = bytearray()

    def feed(self, data: bytes) -> bool:
        """True once the answer is complete."""
        self.buffer += data
        if self.status is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return False
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            del self.buffer[:end + 4]
            parts = head[0].split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
                raise ConnectionError(f"not an HTTP answer: {head[0][:80]!r}")
            self.status = int(parts[1])
            self.close = parts[0] == "HTTP/1.0"
            for line in head[1:]:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == "content-length":
                    self.length = int(value)
                elif name == "transfer-encoding" and "chunked" in value:
                    self.chunked = True
                elif name == "connection":
                    self.close = value == "close"
            if self.length is None and not self.chunked:
                self.close = True  # the body ends with the connection
        if self.chunked:
            return self._chunks()
        if self.length is not None and len(self.buffer) >= self.length:
            self.body = self.buffer[:self.length]
            return True
        return False

    def _chunks(self) -> bool:
        while True:
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return False
            size = int(bytes(self.buffer[:end]).split(b";")[0], 16)
            if size == 0:
                return self.buffer.find(b"\r\n", end + 2) >= 0  # the (empty) trailer is there
            if len(self.buffer) < end + 2 + size + 2:
                return False
            self.body += self.buffer[end + 2:end + 2 + size]
            del self.buffer[:end + 2 + size + 2]

    def ended(self) -> bool:
        """The connection closed: complete if the body was to run to its end."""
        if self.status is not None and self.length is None and not self.chunked:
            self.body = self.buffer
            return True
        return False


def no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


class Exchange(asyncio.Protocol):
    """One keep-alive connection, one request at a time. The outcome of a request is a future that
    `send` returns, or, with `on_answer`, a call on_answer(status, body, error) made in the callback
    that read the answer (the NLU link writes its next request there, bot/nlu/link.py)."""

    def __init__(self, on_answer: Callable[[int | None, bytes | None, BaseException | None], None] | None = None):
        self.on_answer = on_answer
        self.transport: asyncio.Transport | None = None
        self.answer: Answer | None = None  # the answer being read: a request is out
        self.future: asyncio.Future | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.last_used = time.monotonic()
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        no_delay(transport)

    def send(self, data: bytes, timeout: float | None) -> asyncio.Future | None:
        loop = asyncio.get_running_loop()
        self.answer = Answer()
        self.future = loop.create_future() if self.on_answer is None else None
        self.transport.write(data)
        self.last_used = time.monotonic()
        if timeout is not None:
            self.timer = loop.call_later(timeout, self._timed_out)
        return self.future

    def reusable(self, keepalive: float) -> bool:
        return (not self.lost and self.answer is None and self.transport is not None
                and not self.transport.is_closing() and time.monotonic() - self.last_used < keepalive)

    def data_received(self, data: bytes) -> None:
        answer = self.answer
        if answer is None:  # nothing asked: the server should not talk
            self.close()
            return
        try:
            complete = answer.feed(data)
        except (ValueError, ConnectionError) as exc:
            self.close()  # its late bytes must not be read as the next answer
            self._fail(ConnectionError(f"a bad HTTP answer: {exc}"))
            return
        if complete:
            self._done(answer)

    def eof_received(self) -> bool | None:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        answer = self.answer
        if answer is None:
            return
        if answer.ended():
            self._done(answer)
        else:
            self._fail(ConnectionError(f"the server closed the connection ({exc or 'EOF'})"))

    def _done(self, answer: Answer) -> None:
        future, self.future, self.answer = self.future, None, None
        self._cancel_timer()
        self.last_used = time.monotonic()
        if answer.close:
            self.close()
        if self.on_answer is not None:
            self.on_answer(answer.status, bytes(answer.body), None)
        elif future is not None and not future.done():
            future.set_result((answer.status, bytes(answer.body)))

    def _fail(self, error: BaseException) -> None:
        future, self.future, self.answer = self.future, None, None
        self._cancel_timer()
        if self.on_answer is not None:
            self.on_answer(None, None, error)
        elif future is not None and not future.done():
            future.set_exception(error)

    def _timed_out(self) -> None:
        self.timer = None
        self.close()
        self._fail(asyncio.TimeoutError())

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def close(self) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.close()


class Pool:
    """Keep-alive connections per host, at most `size` requests at once. `request` raises
    asyncio.TimeoutError (connect, read or the wait for a free connection: `PoolTimeout`), OSError
    (connecting) or ConnectionError (lost, or not HTTP)."""

    def __init__(self, size: int = 8, keepalive: float = 15.0, user_agent: str = ""):
        self.size, self.keepalive = size, keepalive
        self.user_agent = user_agent
        self._idle: dict[tuple, list[Exchange]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._ssl: ssl.SSLContext | None = None

    async def request(self, url: str, body: bytes, content_type: str = "application/json",
                      connect_timeout: float | None = None, read_timeout: float | None = None,
                      pool_timeout: float | None = None) -> tuple[int, bytes]:
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        key = (secure, parts.hostname, parts.port or (443 if secure else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = (f"POST {target} HTTP/1.1\r\nHost: {parts.netloc.rsplit('@', 1)[-1]}\r\n"
                f"User-Agent: {self.user_agent}\r\n" + (f"Content-Type: {content_type}\r\n" if body else "")
                + f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        if self._slots.locked():
            await asyncio.wait_for(self._slots.acquire(), pool_timeout)
        else:
            await self._slots.acquire()
        try:
            exchange = self._reuse(key) or await self._connect(key, connect_timeout)
            try:
                status, data = await exchange.send(head + body, read_timeout)
            except BaseException:  # failed, timed out or cancelled: the connection is not reused
                exchange.close()
                raise
            if exchange.reusable(self.keepalive):
                self._idle.setdefault(key, []).append(exchange)
            return status, data
        finally:
            self._slots.release()

    def _reuse(self, key: tuple) -> Exchange | None:
        idle = self._idle.get(key)
        while idle:
            exchange = idle.pop()
            if exchange.reusable(self.keepalive):
                return exchange
            exchange.close()
        return None

    async def _connect(self, key: tuple, timeout: float | None) -> Exchange:
        secure, host, port = key
        context = None
        if secure:
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        _, exchange = await asyncio.wait_for(
            asyncio.get_running_loop().create_connection(Exchange, host, port, ssl=context), timeout)
        return exchange

    def close(self) -> None:
        for idle in self._idle.values():
            for exchange in idle:
                exchange.close()
        self._idle.clear()
