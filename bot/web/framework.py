"""The staff console's small framework: routes and their policy, the request context, the pipeline that
admits or refuses a request, the security headers. The routes are in auth_routes.py, case_routes.py,
admin_routes.py and register_routes.py; create_app (app.py) puts them together.

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

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..config import Settings
from ..storage.db import make_engine
from ..text import isolate_ltr
from . import i18n, store
from .auth import LANGUAGE_COOKIE, SESSION_COOKIE, Passwords, Session, Sessions, same_token
from .edge import BadRequest, has_nul, id_in_range, neutralise_bidi, parse_id
from .formatting import (isolated_gettext, direction_label, field_label, format_duration, format_when, language_label,
                         pretty_value, priority_label, reason_label, role_label, status_label)
from .i18n import L_, _

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
                 locales_dir: Path, idle_timeout: timedelta | None, engine=None, case_text=None):
        self.settings = settings
        self.clock = clock
        self.engine = engine if engine is not None else make_engine(settings.database_url)
        self.case_text = case_text  # hotline.cases.CaseText: how a staff reply looks on the user's channel
        self.passwords = passwords
        self.locales_dir = locales_dir
        self.sessions = Sessions(secret, clock, **({"idle": idle_timeout} if idle_timeout else {}))
        self.secure_cookies = settings.console_url.lower().startswith("https://")
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                               extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
        self.env.install_gettext_callables(gettext=i18n._, ngettext=i18n.ngettext, newstyle=True)
        for name in ("gettext", "_", "ngettext"):
            self.env.globals[name] = isolated_gettext(self.env.globals[name])
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
                data: FormData = await request.form(max_files=uploads, max_fields=50 + uploads,  # a larger field:
                                                    max_part_size=getattr(fn, "max_part_size", 64 * 1024))  # the workbench's documents
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


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def client_address(request: Request) -> str:
    """The peer's address, or the one a trusted proxy (CONSOLE_TRUSTED_PROXIES) forwarded (ProxyHeadersMiddleware)."""
    return neutralise_bidi(request.client.host)[:64] if request.client else "unknown"
