"""A Telegram Bot API server for tests and benchmarks, on 127.0.0.1: no call ever reaches Telegram.

It speaks the Bot API over HTTP like the real one (POST /bot<token>/<method>, form or JSON parameters,
{"ok": true, "result": ...} answers), delivers updates that a test injects through getUpdates (long
polling), or, once the bot called setWebhook, by POSTing them to its webhook URL as Telegram does
(WebhookSender), records every method the bot calls, and can inject faults: 429 with retry_after, 500,
slow answers, dropped connections.
"""
from __future__ import annotations

import collections
import itertools
import json
import ssl
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
        self.dropping: set[str] = set()  # methods whose every call is dropped (not processed) while listed
        self.held: set[int] = set()  # chats whose sendMessage waits (unanswered) until released
        self.unsupported = set(unsupported)
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(1)
        self.confirmed_offset = 0
        self.webhook: dict | None = None  # setWebhook's url and secret_token; None: getUpdates
        self.webhook_queues: dict[int, collections.deque] = {}  # per chat, the updates not yet delivered
        self.webhook_busy: set[int] = set()  # chats with a delivery in flight
        self.deliveries: list[Delivery] = []  # every webhook POST and how it ended
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content): getFile and downloads
        self.downloads: list[str] = []  # the paths of files downloaded (/file/bot<token>/<file_path>)
        self.token: str | None = None  # when set, getFile and downloads answer 401/404 for another token

    # -- what tests do -------------------------------------------------------------------------------
    def push(self, update: dict) -> int:
        with self.lock:
            update.setdefault("update_id", next(self.update_ids))
            if self.webhook is not None:
                self.webhook_queues.setdefault(_chat_of(update), collections.deque()).append(update)
            else:
                self.updates.append(update)
            self.lock.notify_all()
            return update["update_id"]

    def undelivered(self) -> int:
        """Updates pushed but not yet answered 200 by the webhook (0 in getUpdates mode)."""
        with self.lock:
            return sum(len(queue) for queue in self.webhook_queues.values())

    def fault(self, method: str, *faults: Fault) -> None:
        with self.lock:
            self.faults.setdefault(method, []).extend(faults)

    def hold(self, chat_id: int) -> None:
        """sendMessage to this chat waits, unanswered, until release(): a message still on its way."""
        with self.lock:
            self.held.add(chat_id)

    def release(self, chat_id: int) -> None:
        with self.lock:
            self.held.discard(chat_id)
            self.lock.notify_all()

    def add_file(self, file_id: str, file_path: str, content: bytes) -> None:
        """A file a user sent: getFile gives its path, /file/bot<token>/<path> its bytes."""
        with self.lock:
            self.files[file_id] = (file_path, content)

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
        if method in ("setMyCommands", "answerCallbackQuery", "sendChatAction", "close", "deleteMyCommands"):
            return 200, {"ok": True, "result": True}
        if method in ("setWebhook", "deleteWebhook"):
            with self.lock:
                if method == "setWebhook" and params.get("url"):
                    self.webhook = {"url": params["url"], "secret_token": params.get("secret_token") or ""}
                    for update in self.updates:  # what waited for getUpdates goes to the webhook now
                        self.webhook_queues.setdefault(_chat_of(update), collections.deque()).append(update)
                    self.updates = []
                else:
                    self.webhook = None
                self.lock.notify_all()
            return 200, {"ok": True, "result": True}
        if method == "getWebhookInfo":
            url = self.webhook["url"] if self.webhook else ""
            return 200, {"ok": True, "result": {"url": url, "has_custom_certificate": False,
                                                "pending_update_count": self.undelivered()}}
        if method == "getUpdates":
            if self.webhook is not None:
                return 409, {"ok": False, "error_code": 409,
                             "description": "Conflict: can't use getUpdates method while webhook is active"}
            return 200, {"ok": True, "result": self._get_updates(params)}
        if method == "getFile":
            found = self.files.get(str(params.get("file_id") or ""))
            if found is None:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
            return 200, {"ok": True, "result": {"file_id": params["file_id"], "file_unique_id": params["file_id"] + "u",
                                                "file_size": len(found[1]), "file_path": found[0]}}
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            markup = params.get("reply_markup")
            markup = json.loads(markup) if isinstance(markup, str) else markup
            with self.lock:
                while chat_id in self.held:
                    self.lock.wait(0.05)
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
        if path.startswith("/file/bot"):  # a file download, as api.telegram.org/file/bot<token>/<file_path>
            return self._file(path.removeprefix("/file/bot"))
        token = path.removeprefix("/bot").split("/", 1)[0]
        if self.state.token is not None and token != self.state.token:
            return self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
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
            elif method in state.dropping:
                fault = Fault(drop=True)
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

    def _file(self, rest: str) -> None:
        token, _, file_path = rest.partition("/")
        state = self.state
        with state.lock:
            content = next((data for path, data in state.files.values() if path == file_path), None)
            if content is not None and (state.token is None or token == state.token):
                state.downloads.append(file_path)
        if content is None or (state.token is not None and token != state.token):
            return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

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


@dataclass
class Delivery:
    update_id: int
    status: int | None  # the webhook's HTTP status; None: the connection failed
    at: float


def _chat_of(update: dict) -> int:
    """The chat an update belongs to (Telegram delivers one chat's updates in order)."""
    for key in ("message", "edited_message", "channel_post"):
        if key in update:
            return int(update[key]["chat"]["id"])
    query = update.get("callback_query")
    if query:
        message = query.get("message")
        return int(message["chat"]["id"] if message else query["from"]["id"])
    return -int(update["update_id"])


class WebhookSender:
    """Telegram's side of a webhook: POSTs each update to the URL that setWebhook gave, with the
    X-Telegram-Bot-Api-Secret-Token header. One chat's updates go one after another (the next once the
    previous was answered 2xx), different chats' at once on up to `connections` connections. A delivery
    that fails (no connection, a non-2xx answer) is tried again after `retry_delay`, until it succeeds.
    `verify`: a CA file (PEM) that the webhook's TLS certificate must chain to, e.g. a self-signed one."""

    def __init__(self, state: BotAPIState, verify: str | None = None, connections: int = 8,
                 retry_delay: float = 0.2, timeout: float = 30.0):
        self.state, self.verify, self.retry_delay, self.timeout = state, verify, retry_delay, timeout
        self.stopping = False
        self.threads = [threading.Thread(target=self._run, daemon=True, name=f"webhook-{i}")
                        for i in range(connections)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping = True
        with self.state.lock:
            self.state.lock.notify_all()
        for thread in self.threads:
            thread.join(timeout=self.timeout + 1)

    def _next(self) -> tuple[int, dict, dict] | None:
        state = self.state
        with state.lock:
            while not self.stopping:
                if state.webhook is not None:
                    for chat, queue in state.webhook_queues.items():
                        if queue and chat not in state.webhook_busy:
                            state.webhook_busy.add(chat)
                            return chat, queue[0], dict(state.webhook)
                state.lock.wait(0.5)
        return None

    def _run(self) -> None:
        import httpx

        client = None  # made at the first delivery: the CA file may be written after the server started
        try:
            while (job := self._next()) is not None:
                chat, update, webhook = job
                if client is None:
                    verify = ssl.create_default_context(cafile=self.verify) if self.verify else True
                    client = httpx.Client(verify=verify, timeout=self.timeout)
                headers = {"X-Telegram-Bot-Api-Secret-Token": webhook["secret_token"]} if webhook["secret_token"] else {}
                try:
                    status = client.post(webhook["url"], json=update, headers=headers).status_code
                except httpx.HTTPError:
                    status = None
                delivered = status is not None and 200 <= status < 300
                with self.state.lock:
                    self.state.deliveries.append(Delivery(update["update_id"], status, time.monotonic()))
                    if delivered:
                        self.state.webhook_queues[chat].popleft()
                    self.state.webhook_busy.discard(chat)
                    self.state.lock.notify_all()
                if not delivered:
                    time.sleep(self.retry_delay)
        finally:
            if client is not None:
                client.close()


class BotAPIServer:
    """`with BotAPIServer() as server:` serves on 127.0.0.1 (a free port); `server.base_url` is what
    python-telegram-bot's base_url takes. Once the bot calls setWebhook, pushed updates are POSTed to
    it (WebhookSender; `webhook_ca`: the CA file its TLS certificate is checked against)."""

    def __init__(self, unsupported: tuple[str, ...] = (), webhook_ca: str | None = None,
                 webhook_connections: int = 8):
        self.state = BotAPIState(unsupported)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.sender = WebhookSender(self.state, webhook_ca, webhook_connections)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/bot"

    def __enter__(self) -> "BotAPIServer":
        self.thread.start()
        self.sender.start()
        return self

    def __exit__(self, *exc) -> None:
        self.sender.stop()
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
