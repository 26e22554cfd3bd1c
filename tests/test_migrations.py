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
