"""The Alembic migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.storage.db import Base, make_engine
from bot.storage.migrate import current, downgrade, head, upgrade


def test_upgrade_of_an_empty_database_matches_the_models(db_url):
    engine = make_engine(db_url)
    assert current(engine) == head(db_url)  # the fixture upgraded it from empty
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    names = set(inspect(engine).get_table_names())
    assert {"users", "cases", "messages", "staff", "notes", "audit_log", "outbox", "inbox"} <= names
    engine.dispose()


def test_downgrade_then_upgrade_again(db_url):
    downgrade(db_url, "base")
    engine = make_engine(db_url)
    assert "cases" not in inspect(engine).get_table_names()
    upgrade(db_url)
    assert "cases" in inspect(engine).get_table_names()
    assert current(engine) == head(db_url)
    engine.dispose()


def test_0010_rewrites_escaped_json_so_that_urdu_is_found(db_url):
    """Rows written before 0010 hold Urdu as \\u escapes; the migration writes them again as UTF-8 text."""
    import json

    from sqlalchemy import text

    from bot.web import shift_store

    downgrade(db_url, "0006")
    engine = make_engine(db_url)
    escaped = json.dumps({"who": "ظفر ایجنسی", "where": "Gilgit"})  # ensure_ascii: \\u escapes
    meta = json.dumps({"agent_check": {"query": "النور", "outcome": "not_found"}})
    json_value = "CAST(:v AS JSON)" if engine.dialect.name == "postgresql" else ":v"
    with engine.begin() as conn:
        user = conn.execute(text("INSERT INTO users (channel, external_id, chat_id, language, created_at, last_seen_at) "
                                 "VALUES ('tg', '1', '1', 'ur', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id")).scalar()
        case = conn.execute(text(
            "INSERT INTO cases (user_id, priority, priority_rank, status, reason, language, summary, entities, report, "
            f"transcript, created_at, updated_at, version) VALUES (:u, 'normal', 2, 'new', 'report', 'ur', '', "
            f"{json_value.replace(':v', ':e')}, {json_value}, {json_value.replace(':v', ':t')}, CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP, 1) RETURNING id"), {"u": user, "v": escaped, "e": "{}", "t": "[]"}).scalar()
        conn.execute(text(f"INSERT INTO messages (user_id, case_id, direction, kind, text, meta, created_at) VALUES "
                          f"(:u, :c, 'in', 'text', 'x', {json_value}, CURRENT_TIMESTAMP)"), {"u": user, "c": case, "v": meta})
    with engine.connect() as conn:
        assert shift_store.search(conn, "ظفر") == []  # before: the escapes hide it
    upgrade(db_url)
    engine.dispose()
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert [r["id"] for r in shift_store.search(conn, "ظفر")] == [case]
        assert [r["id"] for r in shift_store.search(conn, "النور")] == [case]
        report = conn.execute(text("SELECT report FROM cases WHERE id = :c"), {"c": case}).scalar()
    report = json.loads(report) if isinstance(report, str) else report
    assert report == {"who": "ظفر ایجنسی", "where": "Gilgit"}  # the same value
    engine.dispose()
