"""Shared fixtures. The Rasa model is trained by `make setup` (cached by a hash of nlu/); tests that
need the server share one started here, once per session, on its own port."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings as hypothesis_settings

from bot.config import ROOT, Settings

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

# Hypothesis: "ci" runs 10,000 examples per property (CI=true, as .ci/run sets, or HYPOTHESIS_PROFILE=ci);
# "dev", the default, a few hundred
hypothesis_settings.register_profile("ci", max_examples=10_000, deadline=None, derandomize=True, database=None,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.register_profile("dev", max_examples=300, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
def rasa_url(settings):
    from bot.nlu.server import nlu_server
    from bot.nlu.train import model_path

    if not model_path(settings).is_file():
        pytest.fail("no trained NLU model for the current nlu/: run `make setup` (make test does)")
    url = f"http://127.0.0.1:{free_port()}"
    with nlu_server(settings, url) as ready:
        yield ready


@pytest.fixture(scope="session")
def understander(settings, rasa_url):
    from bot.services import build_understander

    understander, _client = build_understander(settings, rasa_url)
    return understander


@pytest.fixture(scope="session")
def heldout():
    from bot.nlu.data import read_tsv

    return {p.stem: read_tsv(p) for p in sorted((ROOT / "nlu" / "heldout").glob("*.tsv"))}


@pytest.fixture(scope="session")
def safesafar_bin() -> Path:
    path = ROOT / ".venv" / "bin" / "safesafar"
    assert path.exists(), "run `make setup` first"
    return path


# -- databases: every storage test runs on SQLite and on PostgreSQL ------------------------------------
# SAFESAFAR_TEST_DATABASES=sqlite skips PostgreSQL locally; `make test` (and CI) run both.
TEST_DATABASES = [d.strip() for d in os.environ.get("SAFESAFAR_TEST_DATABASES", "sqlite,postgresql").split(",")
                  if d.strip()]


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """A throwaway PostgreSQL cluster on 127.0.0.1 (scripts/postgres.sh installs the Debian package if
    needed), with a template database at the newest migration. Yields the server URL without a database."""
    import subprocess

    from sqlalchemy import text

    from bot.storage.db import make_engine
    from bot.storage.migrate import upgrade

    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="safesafar-pg-"))  # not under pytest's 0700 tree: postgres must reach it
    base.chmod(0o755)
    port = free_port()
    script = str(ROOT / "scripts" / "postgres.sh")
    subprocess.run([script, "start", str(base / "data"), str(port)], check=True)
    server = f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    try:
        admin = make_engine(server + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE safesafar_template"))
        upgrade(server + "/safesafar_template")
        admin.dispose()
        yield server
    finally:
        subprocess.run([script, "stop", str(base / "data")], check=False)
        shutil.rmtree(base, ignore_errors=True)


_db_counter = iter(range(1, 1_000_000))


@pytest.fixture(params=TEST_DATABASES)
def db_url(request, tmp_path):
    """A fresh database at the newest migration: SQLite (a file) or PostgreSQL (a copy of the template)."""
    if request.param == "sqlite":
        import shutil

        template = request.getfixturevalue("sqlite_template")
        shutil.copy(template, tmp_path / "test.db")
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    from sqlalchemy import text

    from bot.storage.db import make_engine

    server = request.getfixturevalue("postgres_server")
    name = f"t{os.getpid()}_{next(_db_counter)}"
    admin = make_engine(server + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE safesafar_template"))
    try:
        yield f"{server}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    from bot.storage.migrate import upgrade

    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


# -- the staff console (tests/test_web_*.py; helpers in tests/web_support.py) ----------------------------

@pytest.fixture
def console(db_url):
    """The console app on a fresh database, with a clock the test moves (tests.web_support.Harness)."""
    from tests.web_support import Harness

    harness = Harness(db_url)
    try:
        yield harness
    finally:
        harness.close()


# -- order: the longest files first ----------------------------------------------------------------------
# `make test` runs two pytest-xdist workers that take whole files (--dist loadfile) in collection order:
# the files that take a minute or more go out first, so that neither worker is left alone with one at
# the end. The order within a file is unchanged.
LONGEST_FIRST = ("test_web_fuzz.py", "test_fuzz.py", "test_cluster.py", "test_nlu_batch.py", "test_crash.py",
                 "test_telegram_e2e.py", "test_personas_e2e.py", "test_web_shift_browser.py", "test_hotline.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # a stable sort
