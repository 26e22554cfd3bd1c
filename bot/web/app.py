"""The staff console app (Starlette + Jinja2, server-rendered; a little plain JavaScript polls for news).

Every route is declared with `@route(path, methods, roles)`: the wrapper refuses a request without a
valid session (pages: redirect to /login; /api/: 401), with a role not in `roles` (403), with an integer
path parameter the database cannot hold (404) and, only then, reads the form (bodies over
limits.MAX_BODY are refused with 413 before they are read) and refuses a POST whose form lacks the
session's CSRF token (403), before the handler runs. Handlers are plain functions that run in a worker
thread with a `Ctx` and use the synchronous SQLAlchemy engine; integers from a query or a form go through
`Ctx.int_param` / `Ctx.int_field` (400 when malformed). Every answer, errors included, carries the
security headers (`ConsoleApp`); the Host header must be CONSOLE_URL's host (or a loopback name), and
X-Forwarded-For is believed only from CONSOLE_TRUSTED_PROXIES.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ..config import Settings
from ..storage.db import make_engine
from ..text import isolate_html, isolate_ltr
from . import i18n, store
from .auth import (
    LANGUAGE_COOKIE,
    LOGIN_COOKIE,
    MAX_FAILURES,
    MAX_FAILURES_ADDRESS,
    SESSION_COOKIE,
    THROTTLE_WINDOW,
    Passwords,
    Session,
    Sessions,
    check_password_policy,
    password_hasher,
    same_token,
)
from .edge import BadRequest, has_nul, id_in_range, neutralise_bidi, parse_id
from .i18n import L_, _
from .limits import BodyLimit

HERE = Path(__file__).resolve().parent
ALL_ROLES = ("agent", "supervisor", "editor", "admin")
CASE_ROLES = store.CASE_ROLES
SUPERVISORS = ("supervisor", "admin")
ADMINS = ("admin",)
POLL_SECONDS = 4

Clock = Callable[[], datetime]
BAD_REQUEST = L_("The request was not valid. Go back, reload the page and try again.")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# -- routes and their policy ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Policy:
    roles: tuple[str, ...]
    api: bool = False
    public: bool = False


_ROUTES: list[tuple[str, tuple[str, ...], Callable, Policy]] = []


def route(path: str, methods: tuple[str, ...] = ("GET",), roles: tuple[str, ...] = CASE_ROLES,
          api: bool = False, public: bool = False):
    def register(fn):
        _ROUTES.append((path, methods, fn, Policy(tuple(roles), api=api, public=public)))
        return fn
    return register


@dataclass
class Ctx:
    console: "Console"
    request: Request
    form: dict[str, str]
    lang: str
    staff: store.Staff | None = None
    session: Session | None = None
    cookies: list[tuple[str, str | None, dict]] = field(default_factory=list)

    @property
    def now(self) -> datetime:
        return self.console.clock()

    @property
    def csrf(self) -> str:
        return self.session.csrf if self.session else ""

    def begin(self):
        return self.console.engine.begin()

    def render(self, template: str, status: int = 200, **values) -> HTMLResponse:
        return HTMLResponse(self.console.render(template, self, **values), status_code=status)

    def param(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    def int_field(self, name: str) -> int | None:
        """An id from the form: None when absent or empty; BadRequest (400) when not one (edge.parse_id)."""
        return _optional_id(self.form.get(name, ""))

    def int_param(self, name: str) -> int | None:
        """An id from the query string, as int_field."""
        return _optional_id(self.param(name))


def _optional_id(value: str) -> int | None:
    if value == "":
        return None
    number = parse_id(value)
    if number is None:
        raise BadRequest(value)
    return number


class Console:
    def __init__(self, settings: Settings, clock: Clock, secret: str, passwords: Passwords,
                 locales_dir: Path, idle_timeout: timedelta | None):
        self.settings = settings
        self.clock = clock
        self.engine = make_engine(settings.database_url)
        self.passwords = passwords
        self.locales_dir = locales_dir
        self.sessions = Sessions(secret, clock, **({"idle": idle_timeout} if idle_timeout else {}))
        self.secure_cookies = settings.console_url.lower().startswith("https://")
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                               extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
        self.env.install_gettext_callables(gettext=i18n._, ngettext=i18n.ngettext, newstyle=True)
        for name in ("gettext", "_", "ngettext"):
            self.env.globals[name] = _isolated(self.env.globals[name])
        # shown text (never form fields: what is submitted must stay clean): numbers, commands, URLs and
        # Latin words in Urdu text are bidi-isolated, as in the bot's replies
        self.env.filters.update(duration=format_duration, when=format_when, pretty=pretty_value, bidi=isolate_ltr)
        self.env.globals.update(status_label=status_label, priority_label=priority_label, reason_label=reason_label,
                                role_label=role_label, language_label=language_label, field_label=field_label,
                                direction_label=direction_label, LANGUAGES=i18n.LANGUAGES,
                                LANGUAGE_NAMES=i18n.LANGUAGE_NAMES, POLL_SECONDS=POLL_SECONDS,
                                CANNED_LANGUAGES=store.CANNED_LANGUAGES, ROLES=ALL_ROLES)

    def render(self, template: str, ctx: Ctx, **values) -> str:
        lang = ctx.lang
        with i18n.active(lang, self.locales_dir):
            return self.env.get_template(template).render(
                lang=lang, rtl=lang in i18n.RTL, staff=ctx.staff, csrf=ctx.csrf, path=ctx.request.url.path,
                **values)

    # the request pipeline: session, role and path before the body is read (admit), then CSRF and the handler
    def admit(self, policy: Policy, request: Request) -> Ctx | Response:
        ctx = Ctx(self, request, {}, i18n.interface_language(request.cookies.get(LANGUAGE_COOKIE)))
        if not policy.public:
            ctx.session, ctx.staff = self.current_session(request)
            if ctx.staff is None:
                return self.unauthenticated(request, policy)
            ctx.lang = i18n.interface_language(ctx.staff.language)
            if ctx.staff.role not in policy.roles:
                return self.refuse(ctx, policy, 403, L_("Your role does not give access to this page."))
        if not all(id_in_range(v) for v in request.path_params.values() if isinstance(v, int)):
            return self.refuse(ctx, policy, 404, L_("There is no such page or case."))
        if has_nul(request.query_params.multi_items()) or has_nul(request.path_params.items()):
            return self.refuse(ctx, policy, 400, BAD_REQUEST)
        return ctx

    def handle(self, fn, policy: Policy, ctx: Ctx) -> Response:
        if has_nul(ctx.form.items()):
            return self.refuse(ctx, policy, 400, BAD_REQUEST)
        if not policy.public and ctx.request.method == "POST" and not same_token(ctx.session.csrf,
                                                                                 ctx.form.get("csrf")):
            return self.refuse(ctx, policy, 403, L_("The form was missing its security token or it was "
                                                    "wrong. Go back, reload the page and try again."))
        try:
            with i18n.active(ctx.lang, self.locales_dir):
                response = fn(ctx)
        except store.NotFound:
            response = self.refuse(ctx, policy, 404, L_("There is no such page or case."))
        except BadRequest:
            response = self.refuse(ctx, policy, 400, BAD_REQUEST)
        if ctx.session is not None and not policy.api:  # a page view renews the idle timeout
            self.set_session_cookie(response, ctx.session)
        for name, value, options in ctx.cookies:
            if value is None:
                response.delete_cookie(name, path=options.get("path", "/"), httponly=True, samesite="strict",
                                       secure=self.secure_cookies)
            else:
                response.set_cookie(name, value, httponly=True, samesite="strict", secure=self.secure_cookies,
                                    **options)
        return response

    def current_session(self, request: Request) -> tuple[Session | None, store.Staff | None]:
        """The session of the request's cookie and its staff member, or (None, None): a cookie that is
        invalid or expired, of a disabled account, or from before the account's last logout, new
        password or new role (staff.session_epoch moved on)."""
        session = self.sessions.loads(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None, None
        with self.engine.connect() as conn:
            staff = store.get_staff(conn, session.staff_id)
        if staff is None or not staff.active or staff.session_epoch != session.epoch:
            return None, None
        return session, staff

    def unauthenticated(self, request: Request, policy: Policy) -> Response:
        if policy.api:
            response: Response = JSONResponse({"error": "login required"}, status_code=401)
        else:
            target = request.url.path if request.method == "GET" else "/"
            response = RedirectResponse("/login?next=" + quote(target, safe="/"), status_code=303)
        if request.cookies.get(SESSION_COOKIE):
            response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                                   secure=self.secure_cookies)
        return response

    def refuse(self, ctx: Ctx, policy: Policy, status: int, message: str) -> Response:
        with i18n.active(ctx.lang, self.locales_dir):
            text = _(message)
        if policy.api:
            return JSONResponse({"error": text}, status_code=status)
        return ctx.render("error.html", status=status, message=text, code=status)

    def set_session_cookie(self, response: Response, session: Session) -> None:
        response.set_cookie(SESSION_COOKIE, self.sessions.dumps(session), httponly=True, samesite="strict",
                            secure=self.secure_cookies, path="/")


def _endpoint(fn, policy: Policy):
    async def endpoint(request: Request) -> Response:
        console: Console = request.app.state.console
        ctx = await run_in_threadpool(console.admit, policy, request)
        if isinstance(ctx, Response):  # refused before the body is read
            return ctx
        if request.method == "POST":
            uploads = getattr(fn, "uploads", 0)  # files a route accepts (the register import), from staff only
            if uploads and request.app.state.console.current_session(request)[0] is None:
                uploads = 0
            try:
                data: FormData = await request.form(max_files=uploads, max_fields=50 + uploads,
                                                    max_part_size=64 * 1024)
            except HTTPException as exc:
                return Response(str(exc.detail), status_code=400)
            ctx.form = {k: v for k, v in data.items() if isinstance(v, str)}
            if uploads:
                request.state.uploads = [(v.filename or "", await v.read()) for _k, v in data.multi_items()
                                         if not isinstance(v, str)]
        return await run_in_threadpool(console.handle, fn, policy, ctx)
    endpoint.__name__ = fn.__name__
    endpoint.policy = policy  # type: ignore[attr-defined]
    return endpoint


class SecurityHeaders:
    """Headers for every response: no framing, no inline script, no caching of pages with case data."""

    HEADERS = [
        (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                     b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + self.HEADERS
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ConsoleApp(Starlette):
    """Starlette with SecurityHeaders outside its error handler: a 500 carries the headers too."""

    def build_middleware_stack(self):
        return SecurityHeaders(super().build_middleware_stack())


def allowed_hosts(settings: Settings) -> list[str]:
    """The Host header values the console answers: CONSOLE_URL's host, and the loopback names (a local
    browser, the container's health check; DNS rebinding cannot use them)."""
    from urllib.parse import urlsplit

    hosts = ["127.0.0.1", "localhost"]
    host = urlsplit(settings.console_url).hostname
    if host and host not in hosts:
        hosts.insert(0, host)
    return hosts


def create_app(config: Settings | str | None = None, *, clock: Clock | None = None, secret: str | None = None,
               fast_hashing: bool = False, locales_dir: Path | None = None,
               idle_timeout: timedelta | None = None, seed: bool = True,
               poll_seconds: float = POLL_SECONDS) -> Starlette:
    """The console for `config` (Settings, or a database URL with the other settings from the environment).
    clock: injectable for tests; secret: signs sessions (default settings.console_secret, else random per
    start); fast_hashing: cheap argon2 parameters, for tests only; poll_seconds: how often pages look for news."""
    if config is None:
        settings = Settings.from_env()
    elif isinstance(config, str):
        from dataclasses import replace

        settings = replace(Settings.from_env(), database_url=config)
    else:
        settings = config
    secret = secret or settings.console_secret or secrets.token_urlsafe(32)
    console = Console(settings, clock or utcnow, secret, Passwords(password_hasher(fast_hashing)),
                      locales_dir or i18n.LOCALES, idle_timeout)
    console.env.globals["POLL_SECONDS"] = poll_seconds
    if seed:
        store.seed_canned_replies(console.engine, console.clock())
    routes = [Route(path, _endpoint(fn, policy), methods=list(methods), name=fn.__name__)
              for path, methods, fn, policy in _ROUTES]
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app):
        yield
        console.engine.dispose()

    app = ConsoleApp(routes=routes, lifespan=lifespan)
    # (the last added runs first) the proxy's client address, then the Host, then the body's size
    app.add_middleware(BodyLimit)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(settings), www_redirect=False)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.console_trusted_proxies))
    app.state.console = console
    return app


# -- formatting helpers for the templates ------------------------------------------------------------------

STATUS_LABELS = {"new": L_("New"), "claimed": L_("Claimed"), "waiting": L_("Waiting for user"),
                 "resolved": L_("Resolved"), "reopened": L_("Reopened")}
PRIORITY_LABELS = {"urgent": L_("Urgent"), "high": L_("High"), "normal": L_("Normal")}
REASON_LABELS = {"emergency": L_("Emergency"), "safety_net": L_("Danger words"), "report": L_("Report form"),
                 "human": L_("Asked for a person"), "offer_check": L_("Risky offer check"),
                 "fallback": L_("Not understood")}
ROLE_LABELS = {"agent": L_("Agent"), "supervisor": L_("Supervisor"), "editor": L_("Editor"), "admin": L_("Admin")}
LANGUAGE_LABELS = {"en": L_("English"), "ur": L_("Urdu"), "ur-Latn": L_("Roman Urdu")}
FIELD_LABELS = {"what": L_("What happened"), "who": L_("Agent or company"), "where": L_("Where"),
                "money": L_("Money paid"), "contact": L_("May we contact them"),
                "contact_ok": L_("May we contact them"), "country": L_("Country"), "amount": L_("Amount"),
                "kind": L_("Kind"), "level": L_("Level"), "total": L_("Score"), "answers": L_("Answers"),
                "breakdown": L_("Breakdown")}
DIRECTION_LABELS = {"in": L_("User"), "out": L_("Bot"), "staff": L_("SafeSafar team")}


def _label(table: dict[str, str], value) -> str:
    return _(table[value]) if value in table else str(value if value is not None else "—")


def status_label(value): return _label(STATUS_LABELS, value)  # noqa: E704
def priority_label(value): return _label(PRIORITY_LABELS, value)  # noqa: E704
def reason_label(value): return _label(REASON_LABELS, value)  # noqa: E704
def role_label(value): return _label(ROLE_LABELS, value)  # noqa: E704
def language_label(value): return _label(LANGUAGE_LABELS, value)  # noqa: E704
def field_label(value): return _label(FIELD_LABELS, value)  # noqa: E704
def direction_label(value): return _label(DIRECTION_LABELS, value)  # noqa: E704


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(abs(value).total_seconds() // 60)
    if minutes < 1:
        return _("under 1 min")
    if minutes < 60:
        return _("%(m)s min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return _("%(d)s d %(h)s h") % {"d": days, "h": hours}


def format_when(value) -> Markup | str:
    """A time in UTC, kept left-to-right inside right-to-left text."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value  # autoescaped by the template
    value = store.as_utc(value)
    return Markup('<time dir="ltr" datetime="{}">{}</time>').format(value.isoformat(), value.strftime("%Y-%m-%d %H:%M UTC"))


def _isolated(gettext):
    """A template gettext callable (Jinja's newstyle one, which formats the translation with its values
    and escapes them) whose output is bidi-isolated where it is right-to-left, in its text nodes only."""
    @pass_context
    def call(context, *args, **variables):
        text = gettext(context, *args, **variables)
        return Markup(isolate_html(str(text))) if isinstance(text, Markup) else isolate_ltr(text)
    return call


def pretty_value(value) -> str:
    """A value of the JSON columns (entities, offer check, report) as short text."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (list, tuple)):
        return ", ".join(pretty_value(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {pretty_value(v)}" for k, v in value.items()) or "—"
    return str(value)


# -- messages shown after an action -------------------------------------------------------------------------

NOTICES = {
    "claimed": L_("You claimed this case."),
    "taken": L_("You took over this case."),
    "assigned": L_("The case was assigned."),
    "replied": L_("Reply saved: the bot sends it to the person."),
    "noted": L_("Note added."),
    "status": L_("Status changed."),
    "reopened": L_("Case reopened: it is back in the queue."),
}
ERRORS = {
    "claim_lost": L_("Someone else claimed this case first."),
    "not_yours": L_("This case is held by %(holder)s. Take it over first if you must act on it."),
    "changed": L_("The case changed in the meantime. Look at it again and retry."),
    "resolved": L_("This case is resolved. Reopen it first."),
    "not_resolved": L_("Only a resolved case can be reopened."),
    "empty": L_("Write something first."),
    "too_long": L_("That is too long: at most %(limit)s characters."),
    "unreachable": L_("This person can no longer be reached (their chat was deleted)."),
    "other_open": L_("This person already has another open case (#%(other)s). Work on that one instead."),
    "other_open_unknown": L_("This person already has another open case. Work on that one instead."),
    "bad_assignee": L_("That person cannot be assigned cases."),
    "bad_status": L_("Unknown status."),
    "bad_language": L_("Unknown language."),
}


def error_text(error: store.CaseError) -> str:
    code = error.code
    detail = {k: v for k, v in error.detail.items()}
    if code == "other_open" and not detail.get("other"):
        code = "other_open_unknown"
    if code == "not_yours":
        detail["holder"] = detail.get("holder") or _("nobody")
    template = _(ERRORS.get(code, ERRORS["changed"]))
    try:
        return template % detail if detail else template
    except (KeyError, TypeError, ValueError):
        return template


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def client_address(request: Request) -> str:
    """The peer's address, or the one a trusted proxy (CONSOLE_TRUSTED_PROXIES) forwarded (ProxyHeadersMiddleware)."""
    return neutralise_bidi(request.client.host)[:64] if request.client else "unknown"


# -- login ------------------------------------------------------------------------------------------------

def _login_page(ctx: Ctx, status: int = 200, error: str | None = None, username: str = "") -> Response:
    token, cookie = ctx.console.sessions.login_token()
    ctx.cookies.append((LOGIN_COOKIE, cookie, {"path": "/login"}))
    response = ctx.render("login.html", status=status, login_csrf=token, error=error, username=username,
                          next=safe_next(ctx.param("next") or ctx.form.get("next")))
    return response


@route("/login", roles=ALL_ROLES, public=True)
def login_form(ctx: Ctx) -> Response:
    lang = ctx.param("lang")
    if lang in i18n.LANGUAGES:
        ctx.lang = lang
        ctx.cookies.append((LANGUAGE_COOKIE, lang, {"path": "/", "max_age": 365 * 86400}))
    if ctx.console.current_session(ctx.request)[1] is not None:
        return redirect("/")
    return _login_page(ctx)


@route("/login", methods=("POST",), roles=ALL_ROLES, public=True)
def login(ctx: Ctx) -> Response:
    """The attempt is reserved (recorded as a failure, atomically with the throttle's count) before the
    password is checked, so parallel attempts cannot all pass the count; a correct password then turns the
    reservation into a success. A refused attempt writes nothing: the audit row `login_throttled` is written
    once, by the failure that reaches a limit."""
    console = ctx.console
    expected = console.sessions.login_token_from(ctx.request.cookies.get(LOGIN_COOKIE))
    if not same_token(expected, ctx.form.get("csrf")):
        return _login_page(ctx, 403, _("The login form expired. Please try again."))
    username = neutralise_bidi(ctx.form.get("username", "").strip().lower())[:64]
    password = ctx.form.get("password", "")
    address = client_address(ctx.request)
    now = ctx.now
    with ctx.begin() as conn:
        attempt = store.reserve_attempt(conn, username, address, now, now - THROTTLE_WINDOW,
                                        max_username=MAX_FAILURES, max_address=MAX_FAILURES_ADDRESS)
        row = store.staff_login_row(conn, username) if attempt.id is not None else None
    if attempt.id is None:
        minutes = int(THROTTLE_WINDOW.total_seconds() // 60)
        return _login_page(ctx, 429, _("Too many failed logins. Wait %(minutes)s minutes and try again, or ask "
                                       "an administrator.") % {"minutes": minutes}, username)
    ok = console.passwords.verify(row.password_hash if row else None, password)  # outside the transaction
    reason = None if ok else ("unknown" if row is None else "password")
    if ok and not row.active:
        ok, reason = False, "disabled"
    with ctx.begin() as conn:
        if not ok:
            store.audit(conn, now, username or "?", "login_failed", staff_id=row.id if row else None,
                        address=address, reason=reason)
            for scope in attempt.trips:  # this failure reached a limit: later attempts are refused
                store.audit(conn, now, username or "?", "login_throttled", address=address, scope=scope,
                            minutes=int(THROTTLE_WINDOW.total_seconds() // 60))
        else:
            store.attempt_succeeded(conn, attempt.id)
            if console.passwords.needs_rehash(row.password_hash):
                store.set_password_hash(conn, row.id, console.passwords.hash(password), end_sessions=False)
            store.record_login(conn, row.id, now)
            staff = store.get_staff(conn, row.id)
            store.audit(conn, now, staff, "login", address=address)
    if not ok:
        return _login_page(ctx, 401, _("Wrong username or password, or the account is disabled."), username)
    ctx.session = console.sessions.new(row.id, staff.session_epoch)  # handle() sets the session cookie
    ctx.cookies.append((LOGIN_COOKIE, None, {"path": "/login"}))
    return redirect(safe_next(ctx.form.get("next")))


@route("/logout", methods=("POST",), roles=ALL_ROLES)
def logout(ctx: Ctx) -> Response:
    """Ends every session of the person, on the server: a copy of the cookie no longer works."""
    with ctx.begin() as conn:
        store.end_sessions(conn, ctx.staff.id)
        store.audit(conn, ctx.now, ctx.staff, "logout")
    response = redirect("/login")
    ctx.session = None
    ctx.cookies.append((SESSION_COOKIE, None, {"path": "/"}))
    return response


@route("/language", methods=("POST",), roles=ALL_ROLES)
def set_language(ctx: Ctx) -> Response:
    lang = ctx.form.get("language", "")
    if lang in i18n.LANGUAGES:
        with ctx.begin() as conn:
            store.set_staff_language(conn, ctx.staff.id, lang)
        ctx.cookies.append((LANGUAGE_COOKIE, lang, {"path": "/", "max_age": 365 * 86400}))
    return redirect(safe_next(ctx.form.get("next")))


@route("/", roles=ALL_ROLES)
def home(ctx: Ctx) -> Response:
    return redirect("/content" if ctx.staff.role == "editor" else "/queue")


@route("/content", roles=ALL_ROLES)
def content(ctx: Ctx) -> Response:
    return ctx.render("content.html")


# -- the queue ---------------------------------------------------------------------------------------------

def _queue_data(ctx: Ctx) -> dict:
    view = ctx.param("view", "unassigned")
    view = view if view in store.VIEWS else "unassigned"
    now = ctx.now
    with ctx.begin() as conn:
        rows = store.queue(conn, view, ctx.staff.id)
        numbers = store.counts(conn, ctx.staff.id, now)
    for row in rows:
        row["timing"] = store.timing(row, now)
    return {"view": view, "rows": rows, "counts": numbers}


@route("/queue")
def queue_page(ctx: Ctx) -> Response:
    return ctx.render("queue.html", **_queue_data(ctx))


@route("/api/queue", api=True)
def queue_api(ctx: Ctx) -> Response:
    data = _queue_data(ctx)
    html = ctx.console.render("_queue_rows.html", ctx, **data)
    return JSONResponse({"view": data["view"], "counts": data["counts"], "html": html,
                         "ids": [row["id"] for row in data["rows"]]})


# -- a case --------------------------------------------------------------------------------------------------

def _transcript(case: dict, messages: list[dict]) -> list[dict]:
    items = []
    for entry in case.get("transcript") or []:
        if not isinstance(entry, dict):
            entry = {"text": str(entry)}
        meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
        items.append({"before": True, "direction": entry.get("direction"), "kind": entry.get("kind"),
                      "text": str(entry.get("text") or ""), "at": entry.get("at"),
                      "media": entry.get("media") or meta.get("media"), "staff": None, "id": None})
    for message in messages:
        meta = message.get("meta") or {}
        items.append({"before": False, "direction": message["direction"], "kind": message["kind"],
                      "text": message["text"] or "", "at": message["created_at"], "media": meta.get("media"),
                      "staff": meta.get("username"), "id": message["id"]})
    return items


def _case_context(ctx: Ctx, case_id: int) -> dict:
    now = ctx.now
    with ctx.begin() as conn:
        case = store.get_case(conn, case_id)
        messages = store.case_messages(conn, case_id)
        notes = store.case_notes(conn, case_id)
        canned = store.list_canned(conn)
        assignable = store.assignable_staff(conn) if ctx.staff.role in SUPERVISORS else []
        fingerprint = store.case_fingerprint(conn, case_id)
    language = case.get("language") or "en"
    canned.sort(key=lambda c: (c["language"] != language, c["language"], c["title"]))
    return {"case": case, "items": _transcript(case, messages), "notes": notes, "canned": canned,
            "assignable": assignable, "timing": store.timing(case, now), "fingerprint": fingerprint,
            "mine": case["assigned_to"] == ctx.staff.id, "supervisor": ctx.staff.role in SUPERVISORS,
            "agent_checks": [m["meta"]["agent_check"] for m in messages if (m.get("meta") or {}).get("agent_check")]}


def _case_page(ctx: Ctx, case_id: int, status: int = 200, error: str | None = None, **extra) -> Response:
    notice_code = ctx.param("done")
    notice = _(NOTICES[notice_code]) if notice_code in NOTICES and status == 200 else None
    return ctx.render("case.html", status=status, error=error, notice=notice, draft=extra.pop("draft", ""),
                      note_draft=extra.pop("note_draft", ""), **_case_context(ctx, case_id), **extra)


def _case_id(ctx: Ctx) -> int:
    return int(ctx.request.path_params["case_id"])


@route("/cases/{case_id:int}")
def case_page(ctx: Ctx) -> Response:
    return _case_page(ctx, _case_id(ctx))


@route("/api/cases/{case_id:int}", api=True)
def case_api(ctx: Ctx) -> Response:
    """What the open case page polls: its version, the last message, the transcript's HTML."""
    case_id = _case_id(ctx)
    with ctx.begin() as conn:
        case = store.get_case(conn, case_id)
        messages = store.case_messages(conn, case_id)
        fingerprint = store.case_fingerprint(conn, case_id)
    html = ctx.console.render("_transcript.html", ctx, items=_transcript(case, messages))
    return JSONResponse({**fingerprint, "html": html})


def _act(ctx: Ctx, action: Callable, done: str, draft_field: str | None = None) -> Response:
    """Runs a case action in one transaction; on success back to the case (POST-redirect-GET), on a refused
    action the case page with the reason (409) and what the person typed."""
    case_id = _case_id(ctx)
    try:
        with ctx.begin() as conn:
            store.get_case(conn, case_id)
            action(conn, case_id)
    except store.CaseError as error:
        drafts = {draft_field: ctx.form.get("text", "")} if draft_field else {}
        return _case_page(ctx, case_id, 409, error_text(error), **drafts)
    return redirect(f"/cases/{case_id}?done={done}")


@route("/cases/{case_id:int}/claim", methods=("POST",))
def claim(ctx: Ctx) -> Response:
    def action(conn, case_id):
        if not store.claim(conn, case_id, ctx.staff, ctx.now):
            raise store.CaseError("claim_lost")
    return _act(ctx, action, "claimed")


@route("/cases/{case_id:int}/takeover", methods=("POST",))
def takeover(ctx: Ctx) -> Response:
    expected = ctx.int_field("expected")
    return _act(ctx, lambda conn, case_id: store.takeover(conn, case_id, ctx.staff, expected, ctx.now), "taken")


@route("/cases/{case_id:int}/assign", methods=("POST",), roles=SUPERVISORS)
def assign(ctx: Ctx) -> Response:
    target = ctx.int_field("staff_id")
    if target is None:
        return _case_page(ctx, _case_id(ctx), 409, error_text(store.CaseError("bad_assignee")))
    return _act(ctx, lambda conn, case_id: store.assign(conn, case_id, target, ctx.staff, ctx.now), "assigned")


@route("/cases/{case_id:int}/reply", methods=("POST",))
def reply(ctx: Ctx) -> Response:
    text = ctx.form.get("text", "")
    return _act(ctx, lambda conn, case_id: store.reply(conn, case_id, ctx.staff, text, ctx.now), "replied",
                draft_field="draft")


@route("/cases/{case_id:int}/notes", methods=("POST",))
def add_note(ctx: Ctx) -> Response:
    text = ctx.form.get("text", "")
    return _act(ctx, lambda conn, case_id: store.add_note(conn, case_id, ctx.staff, text, ctx.now), "noted",
                draft_field="note_draft")


@route("/cases/{case_id:int}/status", methods=("POST",))
def set_status(ctx: Ctx) -> Response:
    status = ctx.form.get("status", "")
    return _act(ctx, lambda conn, case_id: store.set_status(conn, case_id, ctx.staff, status, ctx.now), "status")


@route("/cases/{case_id:int}/reopen", methods=("POST",))
def reopen(ctx: Ctx) -> Response:
    return _act(ctx, lambda conn, case_id: store.reopen(conn, case_id, ctx.staff, ctx.now), "reopened")


# -- audit log ----------------------------------------------------------------------------------------------

@route("/audit", roles=SUPERVISORS)
def audit_page(ctx: Ctx) -> Response:
    case_id, before = ctx.int_param("case") or None, ctx.int_param("before") or None
    action, actor = ctx.param("action") or None, ctx.param("actor").strip().lower() or None
    with ctx.begin() as conn:
        rows = store.list_audit(conn, limit=100, before=before, case_id=case_id, action=action, actor=actor)
        actions = store.audit_actions(conn)
    rows = [dict(r._mapping) for r in rows]
    for row in rows:
        row["detail_text"] = json.dumps(row["detail"] or {}, ensure_ascii=False, sort_keys=True)
    older = rows[-1]["id"] if len(rows) == 100 else None
    return ctx.render("audit.html", rows=rows, actions=actions, case_filter=case_id or "", action_filter=action or "",
                      actor_filter=actor or "", older=older)


# -- canned replies -------------------------------------------------------------------------------------------

def _canned_page(ctx: Ctx, status: int = 200, error: str | None = None) -> Response:
    with ctx.begin() as conn:
        replies = store.list_canned(conn)
    notice = _("Saved.") if ctx.param("done") == "1" and status == 200 else None
    return ctx.render("canned.html", status=status, replies=replies, error=error, notice=notice)


@route("/canned", roles=SUPERVISORS)
def canned_page(ctx: Ctx) -> Response:
    return _canned_page(ctx)


def _canned_action(ctx: Ctx, action: Callable) -> Response:
    try:
        with ctx.begin() as conn:
            action(conn)
    except store.CaseError as error:
        return _canned_page(ctx, 409, error_text(error))
    return redirect("/canned?done=1")


@route("/canned", methods=("POST",), roles=SUPERVISORS)
def canned_create(ctx: Ctx) -> Response:
    f = ctx.form
    return _canned_action(ctx, lambda conn: store.create_canned(conn, ctx.staff, f.get("language", ""),
                                                                f.get("title", ""), f.get("text", ""), ctx.now))


@route("/canned/{canned_id:int}", methods=("POST",), roles=SUPERVISORS)
def canned_update(ctx: Ctx) -> Response:
    f, canned_id = ctx.form, int(ctx.request.path_params["canned_id"])
    return _canned_action(ctx, lambda conn: store.update_canned(conn, ctx.staff, canned_id, f.get("language", ""),
                                                                f.get("title", ""), f.get("text", ""), ctx.now))


@route("/canned/{canned_id:int}/delete", methods=("POST",), roles=SUPERVISORS)
def canned_delete(ctx: Ctx) -> Response:
    canned_id = int(ctx.request.path_params["canned_id"])
    return _canned_action(ctx, lambda conn: store.delete_canned(conn, ctx.staff, canned_id, ctx.now))


# -- staff accounts (admin) ------------------------------------------------------------------------------------

def _staff_page(ctx: Ctx, status: int = 200, error: str | None = None, form: dict | None = None) -> Response:
    with ctx.begin() as conn:
        people = store.list_staff(conn)
    notice = _("Saved.") if ctx.param("done") == "1" and status == 200 else None
    return ctx.render("staff.html", status=status, people=people, error=error, notice=notice, form=form or {})


@route("/staff", roles=ADMINS)
def staff_page(ctx: Ctx) -> Response:
    return _staff_page(ctx)


@route("/staff", methods=("POST",), roles=ADMINS)
def staff_create(ctx: Ctx) -> Response:
    from .cli import USERNAME_RE

    f = ctx.form
    username = f.get("username", "").strip().lower()
    role, language = f.get("role", ""), f.get("language", "en")
    password = f.get("password", "")
    keep = {"username": username, "display_name": f.get("display_name", ""), "role": role, "language": language}
    if not USERNAME_RE.fullmatch(username):
        return _staff_page(ctx, 409, _("A username has 2 to 64 letters, digits, dots, dashes or underscores."), keep)
    if role not in ALL_ROLES or language not in i18n.LANGUAGES:
        return _staff_page(ctx, 409, _("Choose a role and a language."), keep)
    if check_password_policy(password):
        return _staff_page(ctx, 409, _("The password must have at least 10 characters, without spaces at "
                                       "either end."), keep)
    password_hash = ctx.console.passwords.hash(password)  # slow: not inside the transaction
    with ctx.begin() as conn:
        taken = store.staff_login_row(conn, username) is not None
        if not taken:
            staff_id = store.create_staff(conn, username, password_hash, role, ctx.now,
                                          display_name=f.get("display_name", "").strip()[:128], language=language)
            store.audit(conn, ctx.now, ctx.staff, "staff_create", target_id=staff_id, target=username, role=role)
    if taken:  # (a page renders outside the transaction: SQLite allows one writer at a time)
        return _staff_page(ctx, 409, _("That username is taken."), keep)
    return redirect("/staff?done=1")


@route("/staff/{staff_id:int}/active", methods=("POST",), roles=ADMINS)
def staff_active(ctx: Ctx) -> Response:
    staff_id = int(ctx.request.path_params["staff_id"])
    active = ctx.form.get("active") == "1"
    if staff_id == ctx.staff.id and not active:
        return _staff_page(ctx, 409, _("You cannot disable your own account."))
    with ctx.begin() as conn:
        target = store.get_staff(conn, staff_id)
        if target is None:
            raise store.NotFound(staff_id)
        store.set_staff_active(conn, staff_id, active)
        store.audit(conn, ctx.now, ctx.staff, "staff_enable" if active else "staff_disable", target_id=staff_id,
                    target=target.username)
    return redirect("/staff?done=1")


from . import register_routes  # noqa: E402,F401  (the OEP register's import pages)
