"""`safesafar console` and `safesafar staff add|list|disable|enable|password|role`: hooked into bot/cli.py by
`add_commands(sub)`. Every command brings the database to the newest migration first."""
from __future__ import annotations

import getpass
import os
import re
import sys
from datetime import datetime, timezone

from ..config import Settings

ROLES = ("agent", "supervisor", "editor", "admin")
LANGUAGES = ("en", "ur")
PASSWORD_ENV = "SAFESAFAR_STAFF_PASSWORD"


def add_commands(sub) -> None:
    p = sub.add_parser("console", help="run the staff console (web app on CONSOLE_HOST:CONSOLE_PORT)")
    p.set_defaults(func=console_command)

    staff = sub.add_parser("staff", help="staff accounts of the console").add_subparsers(dest="staff_command",
                                                                                        required=True)
    p = staff.add_parser("add", help="create an account (password: prompted, SAFESAFAR_STAFF_PASSWORD or --password-stdin)")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--telegram-id", help="the person's Telegram user id (for commands in the staff group)")
    p.add_argument("--display-name", default="")
    p.add_argument("--language", default="en", choices=LANGUAGES, help="interface language (default en)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.set_defaults(func=staff_add)
    p = staff.add_parser("list", help="list accounts")
    p.set_defaults(func=staff_list)
    for name, helptext in (("disable", "disable an account (it can no longer log in; its sessions end)"),
                           ("enable", "enable an account")):
        p = staff.add_parser(name, help=helptext)
        p.add_argument("username")
        p.set_defaults(func=staff_set_active, active=name == "enable")
    p = staff.add_parser("password", help="set a new password (same sources as add); ends the person's sessions")
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=staff_password)
    p = staff.add_parser("role", help="give an account another role; ends the person's sessions")
    p.add_argument("username")
    p.add_argument("role", choices=ROLES)
    p.set_defaults(func=staff_role)


def _engine(settings: Settings):
    from ..services import build_database

    return build_database(settings)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def read_password(args) -> str | None:
    """From stdin (--password-stdin), the environment, or a prompt (twice). None when the prompt fails."""
    from .auth import check_password_policy

    if getattr(args, "password_stdin", False):
        password = sys.stdin.readline().rstrip("\r\n")
    elif os.environ.get(PASSWORD_ENV):
        password = os.environ[PASSWORD_ENV]
    else:
        try:
            password = getpass.getpass("password: ")
            if getpass.getpass("again: ") != password:
                print("error: the passwords differ", file=sys.stderr)
                return None
        except (EOFError, KeyboardInterrupt):
            return None
    problem = check_password_policy(password)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return None
    return password


def console_command(args, settings: Settings) -> int:
    from .server import serve

    print(f"staff console on http://{settings.console_host}:{settings.console_port} (Ctrl-C stops it)", file=sys.stderr)
    try:
        serve(settings)
    except KeyboardInterrupt:
        pass
    return 0


def staff_add(args, settings: Settings) -> int:
    from . import store
    from .auth import USERNAME_RE, Passwords, password_hasher

    username = args.username.strip().lower()
    if not USERNAME_RE.fullmatch(username):
        print("error: a username has 2 to 64 characters: letters, digits, '.', '-', '_'", file=sys.stderr)
        return 2
    if args.telegram_id is not None and not re.fullmatch(r"-?\d{1,20}", args.telegram_id):
        print("error: --telegram-id is a number", file=sys.stderr)
        return 2
    password = read_password(args)
    if password is None:
        return 2
    engine = _engine(settings)
    try:
        with engine.begin() as conn:
            if store.staff_login_row(conn, username) is not None:
                print(f"error: {username} exists", file=sys.stderr)
                return 1
            password_hash = Passwords(password_hasher()).hash(password)
            staff_id = store.create_staff(conn, username, password_hash, args.role, _now(),
                                          display_name=args.display_name.strip(), telegram_id=args.telegram_id,
                                          language=args.language)
            store.audit(conn, _now(), "cli", "staff_create", target_id=staff_id, target=username, role=args.role)
    except Exception as exc:  # e.g. the Telegram id belongs to someone else
        print(f"error: {type(exc).__name__}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"created {args.role} {username} (id {staff_id})")
    return 0


def staff_list(args, settings: Settings) -> int:
    from . import store

    engine = _engine(settings)
    with engine.connect() as conn:
        rows = store.list_staff(conn)
    engine.dispose()
    print(f"{'username':<20} {'role':<11} {'lang':<5} {'active':<7} {'telegram':<12} last login")
    for r in rows:
        last = r.last_login_at.strftime("%Y-%m-%d %H:%M") if r.last_login_at else "-"
        print(f"{r.username:<20} {r.role:<11} {r.language:<5} {'yes' if r.active else 'no':<7} "
              f"{r.telegram_id or '-':<12} {last}")
    return 0


def _change_staff(settings: Settings, username: str, change) -> object | None:
    """Runs change(conn, row) on one account in one transaction; None (and a message) if there is no
    such account."""
    from . import store

    engine = _engine(settings)
    try:
        with engine.begin() as conn:
            row = store.staff_login_row(conn, username.strip().lower())
            if row is None:
                print(f"error: no account {username}", file=sys.stderr)
                return None
            change(conn, row)
            return row
    finally:
        engine.dispose()


def staff_set_active(args, settings: Settings) -> int:
    from . import store

    def change(conn, row):
        store.set_staff_active(conn, row.id, args.active)
        store.audit(conn, _now(), "cli", "staff_enable" if args.active else "staff_disable", target_id=row.id,
                    target=row.username)

    row = _change_staff(settings, args.username, change)
    if row is None:
        return 1
    print(f"{row.username} {'enabled' if args.active else 'disabled'}")
    return 0


def staff_password(args, settings: Settings) -> int:
    from . import store
    from .auth import Passwords, password_hasher

    password = read_password(args)
    if password is None:
        return 2

    def change(conn, row):
        store.set_password_hash(conn, row.id, Passwords(password_hasher()).hash(password))
        store.audit(conn, _now(), "cli", "staff_password", target_id=row.id, target=row.username)

    row = _change_staff(settings, args.username, change)
    if row is None:
        return 1
    print(f"password of {row.username} changed")
    return 0


def staff_role(args, settings: Settings) -> int:
    from . import store

    def change(conn, row):
        if store.set_staff_role(conn, row.id, args.role):
            store.audit(conn, _now(), "cli", "staff_role", target_id=row.id, target=row.username,
                        previous=row.role, role=args.role)

    row = _change_staff(settings, args.username, change)
    if row is None:
        return 1
    print(f"{row.username} is {args.role}")
    return 0
