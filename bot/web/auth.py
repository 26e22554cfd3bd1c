"""Passwords, sessions, CSRF tokens and login throttling for the console.

- Passwords: argon2id (argon2-cffi), rehashed at login when the parameters change.
- Sessions: a signed cookie (itsdangerous) holding the staff id, a per-session CSRF token, the login
  time and the staff row's session_epoch; signed with a timestamp that each page view renews, so a session
  ends after IDLE_TIMEOUT without a page view (the queue's background polling does not keep it alive) and
  after MAX_SESSION in any case. Every request reloads the staff row and refuses a cookie whose epoch is
  not the row's: logout, a new password, disabling and a new role bump the epoch, so they end every
  session of the person on the server side (a copied cookie is worthless afterwards).
- CSRF: every POST form carries the session's token in a hidden field `csrf`, compared in constant time.
  The login form has its own token in a short-lived pre-session cookie.
- Throttling: the login_attempts table; MAX_FAILURES failed logins for a username since its last
  successful one (MAX_FAILURES_ADDRESS from one address, successes or not) within THROTTLE_WINDOW refuse
  further attempts until the window has passed. An attempt is reserved (counted and recorded as a failure
  in one serialised transaction: store.reserve_attempt) before its password is checked.
"""
from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

SESSION_COOKIE = "safesafar_console"
LOGIN_COOKIE = "safesafar_login"
LANGUAGE_COOKIE = "safesafar_console_lang"
IDLE_TIMEOUT = timedelta(hours=8)
MAX_SESSION = timedelta(hours=12)
LOGIN_FORM_TIMEOUT = timedelta(hours=1)
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5  # per username
MAX_FAILURES_ADDRESS = 10  # per address (several staff may share an office's address)
MIN_PASSWORD = 10
USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")  # the console's and the command line's


def password_hasher(fast: bool = False) -> PasswordHasher:
    """argon2id with the library's defaults; `fast` is for tests only."""
    if fast:
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


def check_password_policy(password: str) -> str | None:
    """None when acceptable, else what is wrong (in English, for the command line)."""
    if len(password) < MIN_PASSWORD:
        return f"the password must have at least {MIN_PASSWORD} characters"
    if password.strip() != password:
        return "the password must not start or end with spaces"
    return None


class Passwords:
    def __init__(self, hasher: PasswordHasher):
        self.hasher = hasher
        self._dummy = hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Constant work whether or not the account exists (an unknown username checks a dummy hash)."""
        try:
            return self.hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(stored)
        except (InvalidHashError, ValueError):
            return False


class _ClockSigner(TimestampSigner):
    clock: Callable[[], datetime]

    def get_timestamp(self) -> int:
        return int(self.clock().timestamp())


def _serializer(secret: str, salt: str, clock: Callable[[], datetime]) -> URLSafeTimedSerializer:
    signer = type("Signer", (_ClockSigner,), {"clock": staticmethod(clock)})
    return URLSafeTimedSerializer(secret, salt=salt, signer=signer)


@dataclass
class Session:
    staff_id: int
    csrf: str
    login_at: int  # unix seconds
    epoch: int  # staff.session_epoch at login


class Sessions:
    def __init__(self, secret: str, clock: Callable[[], datetime], idle: timedelta = IDLE_TIMEOUT,
                 max_session: timedelta = MAX_SESSION):
        self.clock = clock
        self.idle, self.max_session = idle, max_session
        self._session = _serializer(secret, "console-session", clock)
        self._login = _serializer(secret, "console-login-form", clock)

    # the session of a logged-in person
    def new(self, staff_id: int, epoch: int) -> Session:
        return Session(staff_id, secrets.token_urlsafe(32), int(self.clock().timestamp()), epoch)

    def dumps(self, session: Session) -> str:
        return self._session.dumps({"s": session.staff_id, "c": session.csrf, "l": session.login_at,
                                    "e": session.epoch})

    def loads(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data = self._session.loads(cookie, max_age=int(self.idle.total_seconds()))
            session = Session(int(data["s"]), str(data["c"]), int(data["l"]), int(data["e"]))
        except (BadSignature, SignatureExpired, KeyError, TypeError, ValueError):
            return None
        if self.clock().timestamp() - session.login_at > self.max_session.total_seconds():
            return None
        return session

    # the token of the login form, before there is a session
    def login_token(self) -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        return token, self._login.dumps(token)

    def login_token_from(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            value = self._login.loads(cookie, max_age=int(LOGIN_FORM_TIMEOUT.total_seconds()))
        except (BadSignature, SignatureExpired):
            return None
        return value if isinstance(value, str) else None


def same_token(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
