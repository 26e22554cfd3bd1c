"""A Telegram Bot API server for tests and benchmarks, on 127.0.0.1: no call ever reaches Telegram.

It speaks the Bot API over HTTP like the real one (POST /bot<token>/<method>, form or JSON parameters,
{"ok": true, "result": ...} answers), delivers updates that a test injects through getUpdates (long
polling), records every method the bot calls, and can inject faults: 429 with retry_after, 500, slow
answers, dropped connections.
"""
from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

BOT = {"id": 7000001, "is_bot": True, "first_name": "SafeSafar", "username": "safesafar_test_bot"}


@dataclass
class Call:
    method: str
    params: dict
    at: float
    ok: bool = True


@dataclass
class Fault:
    status: int | None = None  # answer with this HTTP status (429 carries retry_after)
    retry_after: int = 1
    delay: float = 0.0  # answer after this many seconds
    drop: bool = False  # close the connection without an answer (not processed)


@dataclass
class SentMessage:
    chat_id: int
    text: str
    reply_markup: dict | None
    message_id: int
    at: float


class BotAPIState:
    def __init__(self, unsupported: tuple[str, ...] = ()):
        self.lock = threading.Condition()
        self.updates: list[dict] = []
        self.calls: list[Call] = []
        self.sent: list[SentMessage] = []
        self.by_chat: dict[int, list[SentMessage]] = {}
        self.listeners: list = []  # called with each SentMessage (from the server's threads)
        self.faults: dict[str, list[Fault]] = {}
        self.unsupported = set(unsupported)
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(1)
        self.confirmed_offset = 0

    # -- what tests do -------------------------------------------------------------------------------
    def push(self, update: dict) -> int:
        with self.lock:
            update.setdefault("update_id", next(self.update_ids))
            self.updates.append(update)
            self.lock.notify_all()
            return update["update_id"]

    def fault(self, method: str, *faults: Fault) -> None:
        with self.lock:
            self.faults.setdefault(method, []).extend(faults)

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        with self.lock:
            return list(self.by_chat.get(chat_id, ()))

    def count_to(self, chat_id: int) -> int:
        return len(self.by_chat.get(chat_id, ()))

    def wait_for(self, predicate, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the bot did not answer in time")
                self.lock.wait(min(remaining, 0.05))

    # -- the Bot API ---------------------------------------------------------------------------------
    def handle(self, method: str, params: dict):
        if method in self.unsupported:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        if method == "getMe":
            return 200, {"ok": True, "result": BOT}
        if method in ("deleteWebhook", "setMyCommands", "answerCallbackQuery", "sendChatAction", "close",
                      "setWebhook", "deleteMyCommands"):
            return 200, {"ok": True, "result": True}
        if method == "getWebhookInfo":
            return 200, {"ok": True, "result": {"url": "", "has_custom_certificate": False, "pending_update_count": 0}}
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            markup = params.get("reply_markup")
            markup = json.loads(markup) if isinstance(markup, str) else markup
            with self.lock:
                message = SentMessage(chat_id, params["text"], markup, next(self.message_ids), time.monotonic())
                self.sent.append(message)
                self.by_chat.setdefault(chat_id, []).append(message)
                self.lock.notify_all()
            for listener in list(self.listeners):
                listener(message)
            return 200, {"ok": True, "result": {"message_id": message.message_id, "date": int(time.time()),
                                                "chat": {"id": chat_id, "type": "private"}, "from": BOT,
                                                "text": params["text"]}}
        return 404, {"ok": False, "error_code": 404, "description": f"Not Found: {method}"}

    def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + timeout
        with self.lock:
            if offset:
                self.confirmed_offset = max(self.confirmed_offset, offset)
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while True:
                ready = [u for u in self.updates if u["update_id"] >= offset][:limit]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0:
                    return ready
                self.lock.wait(min(remaining, 0.5))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stalls
    state: BotAPIState

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):  # noqa: N802
        self._serve()

    def do_GET(self):  # noqa: N802
        self._serve()

    def _serve(self):
        path = urlparse(self.path).path
        method = path.rsplit("/", 1)[-1]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        params = self._params(body, urlparse(self.path).query)
        state = self.state
        fault = None
        with state.lock:
            queue = state.faults.get(method)
            if queue:
                fault = queue.pop(0)
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.drop:
            state.calls.append(Call(method, params, time.monotonic(), ok=False))
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        if fault and fault.status:
            state.calls.append(Call(method, params, time.monotonic(), ok=False))
            payload = {"ok": False, "error_code": fault.status, "description": "fault injected"}
            if fault.status == 429:
                payload["description"] = f"Too Many Requests: retry after {fault.retry_after}"
                payload["parameters"] = {"retry_after": fault.retry_after}
            return self._reply(fault.status, payload)
        status, payload = state.handle(method, params)
        state.calls.append(Call(method, params, time.monotonic(), ok=status == 200))
        self._reply(status, payload)

    def _params(self, body: bytes, query: str) -> dict:
        ctype = self.headers.get("Content-Type", "")
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        if "application/json" in ctype and body:
            params.update(json.loads(body))
        elif "multipart/form-data" in ctype:
            import email.parser
            import email.policy

            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                params[name] = part.get_content() if part.get_content_maintype() == "text" else part.get_payload(decode=True)
        elif body:
            params.update({k: v[-1] for k, v in parse_qs(body.decode()).items()})
        return params

    def _reply(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: a bot opening its pool's connections at once (16) then lost
    # SYNs and waited for the kernel's 1 s retransmission (Telegram's servers take such bursts)
    request_queue_size = 128

    def handle_error(self, request, client_address):  # a client that hung up (faults, shutdown): not an error
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class BotAPIServer:
    """`with BotAPIServer() as server:` serves on 127.0.0.1 (a free port); `server.base_url` is what
    python-telegram-bot's base_url takes."""

    def __init__(self, unsupported: tuple[str, ...] = ()):
        self.state = BotAPIState(unsupported)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/bot"

    def __enter__(self) -> "BotAPIServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        with self.state.lock:
            self.state.lock.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()


# -- update builders ---------------------------------------------------------------------------------
_message_ids = itertools.count(100000)


def user(user_id: int, language_code: str = "en") -> dict:
    return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": language_code}


def text_update(user_id: int, text: str, language_code: str = "en", chat_type: str = "private", **extra) -> dict:
    chat = {"id": user_id if chat_type == "private" else -1000 - user_id, "type": chat_type}
    message = {"message_id": next(_message_ids), "date": int(time.time()), "chat": chat,
               "from": user(user_id, language_code), "text": text, **extra}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": message}


def media_update(user_id: int, kind: str) -> dict:
    payloads = {
        "voice": {"voice": {"file_id": "v1", "file_unique_id": "v1u", "duration": 3}},
        "photo": {"photo": [{"file_id": "p1", "file_unique_id": "p1u", "width": 90, "height": 90}]},
        "document": {"document": {"file_id": "d1", "file_unique_id": "d1u"}},
        "sticker": {"sticker": {"file_id": "s1", "file_unique_id": "s1u", "type": "regular", "width": 512,
                                "height": 512, "is_animated": False, "is_video": False}},
        "location": {"location": {"latitude": 36.3, "longitude": 74.6}},
        "contact": {"contact": {"phone_number": "+920000000000", "first_name": "X"}},
    }
    message = {"message_id": next(_message_ids), "date": int(time.time()), "chat": {"id": user_id, "type": "private"},
               "from": user(user_id), **payloads[kind]}
    return {"message": message}


def button_update(user_id: int, data: str, message: SentMessage) -> dict:
    return {"callback_query": {"id": str(next(_message_ids)), "from": user(user_id), "chat_instance": "ci",
                               "data": data, "message": {"message_id": message.message_id, "date": int(time.time()),
                                                         "chat": {"id": user_id, "type": "private"}, "from": BOT,
                                                         "text": message.text}}}
