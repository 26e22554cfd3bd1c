"""Helpers for the staff console's tests: an app on a test database with a clock the test moves, staff
accounts, users and cases written straight into the tables, logged-in clients."""
from __future__ import annotations

import re
import tempfile
import warnings
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert, select

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")  # Starlette 1.x wants httpx2
from starlette.testclient import TestClient

from bot.config import Settings
from bot.web import store
from bot.web.app import create_app
from bot.web.auth import Passwords, password_hasher

PASSWORD = "correct horse battery"
START = datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_hasher = Passwords(password_hasher(fast=True))
_external = iter(range(1000, 10_000_000))


class Clock:
    def __init__(self, now: datetime = START):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def add_staff(engine, username: str, role: str, password: str = PASSWORD, language: str = "en",
              active: bool = True, display_name: str = "", now: datetime = START) -> int:
    with engine.begin() as conn:
        staff_id = store.create_staff(conn, username, _hasher.hash(password), role, now,
                                      display_name=display_name, language=language)
        if not active:
            store.set_staff_active(conn, staff_id, False)
    return staff_id


def staff_obj(engine, staff_id: int) -> store.Staff:
    with engine.connect() as conn:
        return store.get_staff(conn, staff_id)


def add_user(engine, chat_id: str | None = "auto", language: str = "en", now: datetime = START) -> int:
    external = str(next(_external))
    with engine.begin() as conn:
        return conn.execute(insert(store.users).values(
            channel="tg", external_id=external, chat_id=external if chat_id == "auto" else chat_id,
            language=language, created_at=now, last_seen_at=now)).inserted_primary_key[0]


def add_case(engine, *, priority: str = "normal", status: str = "new", reason: str = "human",
             language: str = "en", summary: str = "", transcript: list | None = None, entities: dict | None = None,
             offer_check: dict | None = None, report: dict | None = None, created_at: datetime = START,
             user_id: int | None = None, assigned_to: int | None = None, chat_id: str | None = "auto",
             resolved_at: datetime | None = None, fired_by: str | None = None) -> int:
    """A case as the escalation code writes it (and its user unless given)."""
    if user_id is None:
        user_id = add_user(engine, chat_id=chat_id, language=language, now=created_at)
    with engine.begin() as conn:
        return conn.execute(insert(store.cases).values(
            user_id=user_id, priority=priority, priority_rank=store_rank(priority), status=status, reason=reason,
            language=language, summary=summary or f"{reason} · {language}", entities=entities or {},
            offer_check=offer_check, report=report, fired_by=fired_by,
            transcript=transcript if transcript is not None else [
                {"direction": "in", "kind": "text", "text": "hello", "at": created_at.isoformat()}],
            assigned_to=assigned_to, created_at=created_at, updated_at=created_at, resolved_at=resolved_at,
            version=1)).inserted_primary_key[0]


def store_rank(priority: str) -> int:
    return {"urgent": 0, "high": 1, "normal": 2}[priority]


def add_message(engine, case_id: int, text: str, direction: str = "in", kind: str = "text", meta: dict | None = None,
                at: datetime = START) -> int:
    """A message joining a case, as the bot writes it when the user answers."""
    with engine.begin() as conn:
        user_id = conn.execute(select(store.cases.c.user_id).where(store.cases.c.id == case_id)).scalar_one()
        return conn.execute(insert(store.messages).values(
            user_id=user_id, case_id=case_id, direction=direction, kind=kind, text=text, meta=meta or {},
            created_at=at)).inserted_primary_key[0]


def stage_register_import(engine, *names: str) -> int:
    """A pending import of the OEP register from tests/data/register/ (default: the three saved pages)."""
    from pathlib import Path

    from bot.register.parse import parse_files
    from bot.storage.register_store import stage

    folder = Path(__file__).parent / "data" / "register"
    paths = [folder / n for n in names] or sorted(folder.glob("list-of-oeps-page*.html"))
    return stage(engine, parse_files([(p.name, p.read_bytes()) for p in paths]), START.date(), "test").import_id


def rows(engine, table, *where) -> list:
    with engine.connect() as conn:
        return list(conn.execute(select(table).where(*where).order_by(table.c.id)))


def get_case(engine, case_id: int) -> dict:
    with engine.connect() as conn:
        return store.get_case(conn, case_id)


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


class Harness:
    """The console app on a test database, a movable clock, and helpers to log people in."""

    def __init__(self, config, **options):
        """config: a database URL (the console then at http://testserver, TestClient's host), or Settings."""
        if isinstance(config, str):
            # the learning inbox's training data: an empty temporary folder, never the repository's nlu/data
            config = replace(Settings.from_env(), database_url=config, console_url="http://testserver",
                             nlu_data_dir=Path(tempfile.mkdtemp(prefix="nlu-data-")))
        self.clock = Clock()
        self.launched: list[tuple[int, str]] = []  # retraining jobs the console started (tests/test_web_models.py)
        options.setdefault("retrain_launcher", lambda settings, job_id, mode: self.launched.append((job_id, mode)))
        self.app = create_app(config, clock=self.clock, secret="test-secret", fast_hashing=True, **options)
        self.engine = self.app.state.console.engine
        self.clients: list[TestClient] = []

    def client(self, **options) -> TestClient:
        """options: TestClient's (client=(address, port), raise_server_exceptions=...)."""
        client = TestClient(self.app, follow_redirects=False, **options)
        self.clients.append(client)
        return client

    def login(self, username: str, password: str = PASSWORD, client: TestClient | None = None):
        """Returns (client, response of the login POST)."""
        client = client or self.client()
        page = client.get("/login")
        response = client.post("/login", data={"username": username, "password": password,
                                               "csrf": csrf_from(page.text)})
        return client, response

    def as_staff(self, username: str, role: str, **kwargs) -> TestClient:
        add_staff(self.engine, username, role, now=self.clock.now, **kwargs)
        client, response = self.login(username)
        assert response.status_code == 303, response.text
        return client

    def token(self, client: TestClient, path: str = "/queue") -> str:
        return csrf_from(client.get(path).text)

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.engine.dispose()
