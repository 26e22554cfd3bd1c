"""`safesafar staff ...` and `safesafar console` (the server start is replaced by a recorder)."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import inspect

from bot.cli import main
from bot.storage.db import make_engine
from bot.web import store
from tests.web_support import Harness, rows

PASSWORD = "a long enough password"


@pytest.fixture
def env(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("SAFESAFAR_STAFF_PASSWORD", raising=False)
    return db_url


def test_staff_add_list_disable(env, monkeypatch, capsys):
    monkeypatch.setenv("SAFESAFAR_STAFF_PASSWORD", PASSWORD)
    assert main(["staff", "add", "Sara", "--role", "supervisor", "--telegram-id", "12345",
                 "--display-name", "Sara A", "--language", "ur"]) == 0
    assert main(["staff", "add", "sara", "--role", "agent"]) == 1  # exists
    assert main(["staff", "add", "x", "--role", "agent"]) == 2  # username too short
    monkeypatch.setenv("SAFESAFAR_STAFF_PASSWORD", "short")
    assert main(["staff", "add", "tariq", "--role", "agent"]) == 2
    assert "at least 10 characters" in capsys.readouterr().err
    monkeypatch.delenv("SAFESAFAR_STAFF_PASSWORD")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["staff", "add", "tariq", "--role", "agent", "--password-stdin"]) == 0
    with pytest.raises(SystemExit):
        main(["staff", "add", "umar", "--role", "boss"])

    engine = make_engine(env)
    try:
        people = {r.username: r for r in rows(engine, store.staff_t)}
        assert set(people) == {"sara", "tariq"}
        assert (people["sara"].role, people["sara"].telegram_id, people["sara"].language,
                people["sara"].display_name) == ("supervisor", "12345", "ur", "Sara A")
        assert people["sara"].password_hash.startswith("$argon2id$") and PASSWORD not in people["sara"].password_hash
        assert [(a.actor, a.action) for a in rows(engine, store.audit_t) if a.action.startswith("staff_")] == [
            ("cli", "staff_create"), ("cli", "staff_create")]
    finally:
        engine.dispose()

    capsys.readouterr()
    assert main(["staff", "list"]) == 0
    listing = capsys.readouterr().out
    assert "sara" in listing and "supervisor" in listing and "tariq" in listing

    harness = Harness(env)
    try:
        assert harness.login("tariq", PASSWORD)[1].status_code == 303  # the CLI's real argon2 hash works
        assert main(["staff", "disable", "tariq"]) == 0
        assert harness.login("tariq", PASSWORD)[1].status_code == 401
        assert main(["staff", "enable", "tariq"]) == 0
        assert harness.login("tariq", PASSWORD)[1].status_code == 303
        assert main(["staff", "disable", "nobody"]) == 1
    finally:
        harness.close()


def test_console_command_migrates_then_serves(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fresh' / 'console.db'}"  # no database yet
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CONSOLE_PORT", "8099")
    calls = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: calls.append((app, kw)))
    assert main(["console"]) == 0
    (app, options), = calls
    assert options["host"] == "127.0.0.1" and options["port"] == 8099
    assert any(getattr(r, "path", None) == "/queue" for r in app.routes)
    engine = make_engine(url)
    try:
        assert {"cases", "staff", "canned_replies"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
