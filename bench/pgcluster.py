"""A throwaway PostgreSQL cluster for the benchmarks (scripts/postgres.sh): started on a free port of
127.0.0.1 with one empty database, stopped and deleted at the end."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from bot.config import ROOT
from bot.storage.db import make_engine


@contextmanager
def throwaway_postgres(database: str = "bench", base_port: int = 55_000) -> Iterator[str]:
    """Yields the URL of `database` on a fresh cluster."""
    base = Path(tempfile.mkdtemp(prefix="safesafar-bench-pg-"))
    base.chmod(0o755)  # not under a 0700 tree: the postgres user must reach it
    port = base_port + (int(time.time()) % 1000)
    script = str(ROOT / "scripts" / "postgres.sh")
    subprocess.run([script, "start", str(base / "data"), str(port)], check=True, stdout=subprocess.DEVNULL)
    try:
        admin = make_engine(f"postgresql://postgres@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {database}"))
        admin.dispose()
        yield f"postgresql://postgres@127.0.0.1:{port}/{database}"
    finally:
        subprocess.run([script, "stop", str(base / "data")], check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(base, ignore_errors=True)
