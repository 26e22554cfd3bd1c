"""python-telegram-bot's network layer on aiohttp instead of httpx.

Measured here, one Bot API call costs about 2.8 ms of CPU through httpx and 1.0-1.4 ms through aiohttp
(bench/http_clients.py); with ~2.5 HTTP calls per update (the NLU and 1-2 replies) that is a third of
the bot's CPU. The semantics are python-telegram-bot's HTTPXRequest's, except that parameters go as a JSON body
(python-telegram-bot's own `RequestData.json_payload`; multipart with files), timeouts raise telegram.error.TimedOut and every other transport failure
telegram.error.NetworkError, so python-telegram-bot's retry, RetryAfter and error handling are unchanged.
aiohttp has no write timeout: the read timeout covers a request that cannot be written.

Requests without files (every API call but uploads) go over bot/http1.py's keep-alive connections
instead of aiohttp's: the request is written by the caller at once and the answer read in the
protocol's callback, where aiohttp on Python 3.11 writes the body in a task of its own and wakes the
caller through several more (each a wait behind other users' turns on a busy event loop).
"""
from __future__ import annotations

import asyncio

import aiohttp
from telegram._utils.defaultvalue import DefaultValue

from ..http1 import Pool
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


_JSON = {"Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    def __init__(self, connection_pool_size: int = 8, read_timeout: float | None = 5.0,
                 connect_timeout: float | None = 5.0, pool_timeout: float | None = 1.0,
                 media_read_timeout: float | None = 20.0):
        self.pool_size = connection_pool_size
        self._read_timeout, self.connect_timeout = read_timeout, connect_timeout
        self.pool_timeout, self.media_read_timeout = pool_timeout, media_read_timeout
        self._session: aiohttp.ClientSession | None = None
        self._pool: Pool | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                                  headers={"User-Agent": self.USER_AGENT})
            self._pool = Pool(self.pool_size, user_agent=self.USER_AGENT)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        if self._pool is not None:
            self._pool.close()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout=BaseRequest.DEFAULT_NONE, write_timeout=BaseRequest.DEFAULT_NONE,
                         connect_timeout=BaseRequest.DEFAULT_NONE,
                         pool_timeout=BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.contains_files if request_data else False
        if isinstance(read_timeout, DefaultValue):
            read_timeout = self.media_read_timeout if files else self._read_timeout
        if isinstance(connect_timeout, DefaultValue):
            connect_timeout = self.connect_timeout
        if isinstance(pool_timeout, DefaultValue):
            pool_timeout = self.pool_timeout
        waiting = None if connect_timeout is None or pool_timeout is None else connect_timeout + pool_timeout
        timeout = aiohttp.ClientTimeout(total=None, connect=waiting, sock_connect=connect_timeout,
                                        sock_read=read_timeout)
        if not files and method == "POST" and url.startswith(("http://", "https://")):
            body = request_data.json_payload if request_data is not None and request_data.json_parameters else b""
            try:
                return await self._pool.request(url, body, connect_timeout=connect_timeout,
                                                read_timeout=read_timeout, pool_timeout=pool_timeout)
            except asyncio.TimeoutError as error:  # before OSError: on Python 3.11 it is one
                raise TimedOut from error
            except OSError as error:  # refused, reset, closed, not HTTP
                raise NetworkError(f"{error.__class__.__name__}: {error}") from error
        data = headers = None
        if request_data is not None:
            if files:
                data = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    data.add_field(name, value)
                for name, part in request_data.multipart_data.items():
                    if isinstance(part, tuple):
                        filename, content, *mime = part
                        data.add_field(name, content, filename=filename,
                                       content_type=mime[0] if mime else "application/octet-stream")
                    else:
                        data.add_field(name, part)
            elif request_data.json_parameters:
                # the parameters as one JSON body (the Bot API takes JSON as well as forms): encoding it
                # is C code, where a form body is percent-encoded character by character in Python
                data = request_data.json_payload
                headers = _JSON
        try:
            async with self._session.request(method, url, data=data, headers=headers, timeout=timeout) as response:
                return response.status, await response.read()
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error


class PollingRequest(AiohttpRequest):
    """The getUpdates connection. It keeps the updates of the last answer as the server sent them, so
    that the inbox stores those rather than `Update.to_dict()` of python-telegram-bot's objects (which
    cost more than the insert itself: ~3% of the bot's CPU per update), all of one answer in one
    transaction. python-telegram-bot queues all the updates of one answer before it asks for the next
    (whose offset confirms them to Telegram)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.raw_updates: dict[int, dict] = {}

    def parse_json_payload(self, payload: bytes) -> dict:
        data = super().parse_json_payload(payload)
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(result, list):
            self.raw_updates = {u["update_id"]: u for u in result
                                if isinstance(u, dict) and isinstance(u.get("update_id"), int)}
        return data

    def take_answer(self, update_id: int) -> dict[int, dict] | None:
        """The updates of the answer that brought this one, as received, by id; once (None after, or
        for an update that did not come through this connection, e.g. a webhook's)."""
        if update_id not in self.raw_updates:
            return None
        answer, self.raw_updates = self.raw_updates, {}
        return answer
