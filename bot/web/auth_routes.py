"""The console's login, logout, interface language and start pages (every role)."""
from __future__ import annotations

from starlette.responses import Response

from . import i18n, store
from .auth import (LANGUAGE_COOKIE, LOGIN_COOKIE, MAX_FAILURES, MAX_FAILURES_ADDRESS, SESSION_COOKIE,
                   THROTTLE_WINDOW, same_token)
from .edge import neutralise_bidi
from .framework import ALL_ROLES, Ctx, client_address, redirect, route, safe_next
from .i18n import _


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


