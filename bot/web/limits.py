"""A limit on the size of request bodies, enforced before the body is read: a request announcing more
(Content-Length) is answered 413 at once, and one that sends more than it announced (or chunked) is cut
off with 413 as soon as it crosses the limit. The console has no uploads: its largest form is a reply or
a note of a few thousand characters (Urdu, percent-encoded: about 10 bytes a character)."""
from __future__ import annotations

from starlette.responses import PlainTextResponse

MAX_BODY = 256 * 1024


class _TooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app, limit: int = MAX_BODY):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope["headers"]:
            if name == b"content-length" and not (value.isdigit() and int(value) <= self.limit):
                return await self.too_large(scope, receive, send)
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        async def watched_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except _TooLarge:
            if started:  # pragma: no cover - the console reads a body before it answers
                raise
            await self.too_large(scope, receive, send)

    async def too_large(self, scope, receive, send):
        response = PlainTextResponse("Request body too large", status_code=413, headers={"connection": "close"})
        await response(scope, receive, send)
