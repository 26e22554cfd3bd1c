"""Alembic, driven from code: `safesafar db upgrade` and the application's start both bring the database
to the newest migration. The same migrations serve SQLite and PostgreSQL."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def head(url: str) -> str:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str, engine: Engine | None = None, revision: str = "head") -> None:
    ensure_sqlite_dir(url)
    config = alembic_config(url)
    if engine is not None:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    else:
        command.upgrade(config, revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def upgrade_if_needed(url: str, engine: Engine) -> None:
    if current(engine) != head(url):
        upgrade(url, engine)
