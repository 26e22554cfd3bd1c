"""Photos, voice notes and documents a user sent, fetched through the bot for staff: the Bot API's getFile
gives a file path, the file is streamed from the Bot API's file URL to the browser. Both URLs hold the
bot's token: they are built and used on the server only, and no error message or log line repeats them.
Nothing is stored: the file passes through (the console's answers are never cached, security headers).

Telegram's Bot API serves files up to 20 MB; the file ids stay valid while the bot may fetch them."""
from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass
from pathlib import PurePosixPath

import httpx
from sqlalchemy import select
from starlette.responses import StreamingResponse

from .i18n import L_
from .store import messages

log = logging.getLogger("safesafar.console")

MAX_BYTES = 20 * 1024 * 1024
CHUNK = 64 * 1024
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# shown in the browser (inline): only these types; everything else is a download of application/octet-stream
INLINE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "audio/ogg", "audio/mpeg", "audio/mp4",
                "audio/x-m4a", "video/mp4", "video/webm"}
KIND_TYPES = {"photo": "image/jpeg", "voice": "audio/ogg", "video_note": "video/mp4"}  # when the name says nothing
UNAVAILABLE = L_("The file could not be fetched through the bot. It may be too large (over 20 MB) or no longer "
                 "on Telegram's servers, or the bot is not reachable. Try again later.")
NOT_CONFIGURED = L_("Files cannot be fetched: the console has no bot token (TELEGRAM_BOT_TOKEN).")


@dataclass
class MediaError(Exception):
    status: int
    message: str


def message_file(conn, case_id: int, message_id: int) -> tuple[str, str] | None:
    """(media kind, Telegram file id) of a message of the case from the user, or None."""
    row = conn.execute(select(messages.c.meta, messages.c.direction).where(
        messages.c.id == message_id, messages.c.case_id == case_id)).first()
    meta = (row.meta or {}) if row is not None and row.direction == "in" else {}
    file_id = meta.get("file_id")
    if not isinstance(file_id, str) or not file_id:
        return None
    return str(meta.get("media") or "document"), file_id


def _api_base(base_url: str) -> str:
    """As python-telegram-bot's builder (telegram/app.py): ".../bot" then the token."""
    base = base_url.rstrip("/")
    return base if base.endswith("/bot") else base + "/bot"


def _file_base(base_url: str) -> str:
    return base_url.rstrip("/").removesuffix("/bot") + "/file/bot"


def content_type(kind: str, file_path: str) -> tuple[str, bool]:
    """(Content-Type, inline): the file name's type, else the media kind's; only INLINE_TYPES show in the
    browser, anything else downloads as application/octet-stream (an HTML "document" never runs)."""
    guessed = mimetypes.guess_type(file_path)[0] or KIND_TYPES.get(kind) or ""
    if guessed == "audio/oga":
        guessed = "audio/ogg"
    return (guessed, True) if guessed in INLINE_TYPES else ("application/octet-stream", False)


def stream(base_url: str, token: str, file_id: str, kind: str, download: bool = False,
           filename: str = "file") -> StreamingResponse:
    if not token:
        raise MediaError(503, NOT_CONFIGURED)
    client = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    try:
        answer = client.post(f"{_api_base(base_url)}{token}/getFile", json={"file_id": file_id})
        data = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
        result = data.get("result") or {}
        path = result.get("file_path")
        if answer.status_code != 200 or not data.get("ok") or not isinstance(path, str) or ".." in path:
            log.info("getFile refused: HTTP %s", answer.status_code)
            raise MediaError(502, UNAVAILABLE)
        if (result.get("file_size") or 0) > MAX_BYTES:
            raise MediaError(502, UNAVAILABLE)
        request = client.build_request("GET", f"{_file_base(base_url)}{token}/{path}")
        upstream = client.send(request, stream=True)
    except httpx.HTTPError as exc:  # the exception's text holds the URL, and so the token: not repeated
        client.close()
        log.info("fetching a file through the bot failed: %s", type(exc).__name__)
        raise MediaError(502, UNAVAILABLE) from None
    except MediaError:
        client.close()
        raise
    if upstream.status_code != 200:
        upstream.close()
        client.close()
        log.info("file download refused: HTTP %s", upstream.status_code)
        raise MediaError(502, UNAVAILABLE)

    def body():
        sent = 0
        try:
            for chunk in upstream.iter_bytes(CHUNK):
                sent += len(chunk)
                if sent > MAX_BYTES:
                    break
                yield chunk
        except httpx.HTTPError as exc:
            log.info("file download broke off: %s", type(exc).__name__)
        finally:
            upstream.close()
            client.close()

    media_type, inline = content_type(kind, path)
    suffix = PurePosixPath(path).suffix[:8] if PurePosixPath(path).suffix[1:].isalnum() else ""
    disposition = "inline" if inline and not download else "attachment"
    headers = {"content-disposition": f'{disposition}; filename="{filename}{suffix}"'}
    if upstream.headers.get("content-length", "").isdigit():
        headers["content-length"] = upstream.headers["content-length"]
    return StreamingResponse(body(), media_type=media_type, headers=headers)
