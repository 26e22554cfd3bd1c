"""The editors' workbench (issue 19): publish-to-worker latency and the size of the content tables.

    .venv/bin/python bench/content_publish.py [--publishes 20] [--workers 2] [--revisions 1000] [--skip-postgres]

1. Latency: two worker processes (tests/content_worker.py: the database-backed content store that
   bot/services.py builds, polling the content version every second) on one database; this process
   edits the Urdu greeting and publishes it (save, submit, approve: what the console does) `--publishes`
   times, and measures the time from the approval's return to each worker serving the new text.
   Printed: p50, p95, max over publishes x workers. The poll interval (1 s) bounds it; the rebuild of the
   snapshot (YAML of every file) adds to it.
2. Size: `--revisions` more revisions of topics (each a topic's text with one line changed, written
   through the repository without the checks, which take ~0.5 s each), then the size of content_items,
   content_revisions and content_state (PostgreSQL: pg_total_relation_size; SQLite: dbstat pages).
SQLite (a temporary file) and PostgreSQL (a throwaway cluster, scripts/postgres.sh).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from bot.config import ROOT, Settings  # noqa: E402
from bot.dialogue.content import read_documents  # noqa: E402
from bot.editorial.model import DRAFT, Revision  # noqa: E402
from bot.editorial.workbench import utcnow  # noqa: E402
from bot.services import build_workbench  # noqa: E402
from bot.storage.db import make_engine  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from tests.test_workbench_live import Worker, publish_greeting  # noqa: E402

TABLES = ("content_items", "content_revisions", "content_state")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def latency(url: str, publishes: int, workers: int) -> list[float]:
    engine = make_engine(url)
    workbench = build_workbench(Settings.from_env(), engine)
    running = [Worker(url) for _ in range(workers)]
    try:
        for worker in running:
            worker.next(timeout=120)
        out = []
        for n in range(publishes):
            line = f"السلام علیکم! اشاعت نمبر {n + 1}۔"
            published_at = publish_greeting(workbench, line)
            for worker in running:
                seen = worker.next(timeout=30)
                assert seen["line"] == line, seen
                out.append(seen["at"] - published_at)
        return out
    finally:
        for worker in running:
            worker.stop()
        engine.dispose()


def add_revisions(url: str, count: int) -> None:
    engine = make_engine(url)
    repository = build_workbench(Settings.from_env(), engine).repository
    with repository.unit(write=False) as unit:
        topics = unit.items("topic")
    n = 0
    while n < count:
        with repository.unit() as unit:
            for item in topics:
                if n >= count:
                    break
                current = unit.item(item.kind, item.key)
                document = unit.revision(current.id, current.head_version).document
                lines = document.splitlines(keepends=True)
                lines[-1] = lines[-1].rstrip("\n") + f" {n}\n"  # one line changed, as an edit does
                assert unit.advance_head(current.id, current.head_version)
                unit.add_revision(current.id, Revision(current.head_version + 1, DRAFT, "".join(lines), "bench", None,
                                                       utcnow(), note=f"bench edit {n}", base_version=current.head_version))
                n += 1
    engine.dispose()


def sizes(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            out = {t: conn.execute(text(f"SELECT pg_total_relation_size('{t}')")).scalar_one() for t in TABLES}
        else:
            out = {}
            for table in TABLES:
                names = [table] + list(conn.execute(text(
                    "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name=:t"), {"t": table}).scalars())
                out[table] = sum(conn.execute(text("SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name=:n"),
                                              {"n": name}).scalar_one() for name in names)
        revisions = conn.execute(text("SELECT COUNT(*), SUM(LENGTH(document)) FROM content_revisions")).one()
    engine.dispose()
    out["revisions"], out["document_chars"] = int(revisions[0]), int(revisions[1] or 0)
    return out


def run(name: str, url: str, args) -> None:
    upgrade(url)
    engine = make_engine(url)
    added = build_workbench(Settings.from_env(), engine).seed(read_documents(ROOT / "content"))
    engine.dispose()
    seeded = sizes(url)
    values = latency(url, args.publishes, args.workers)
    print(f"{name}: publish -> worker serves it, {args.publishes} publishes x {args.workers} workers: "
          f"p50 {percentile(values, 0.5) * 1000:.0f} ms, p95 {percentile(values, 0.95) * 1000:.0f} ms, "
          f"max {max(values) * 1000:.0f} ms, mean {statistics.mean(values) * 1000:.0f} ms", flush=True)
    add_revisions(url, args.revisions)
    after = sizes(url)
    total = sum(after[t] for t in TABLES)
    print(f"{name}: seeded {added} items: {seeded['revisions']} revisions, "
          f"{sum(seeded[t] for t in TABLES) / 1024:.0f} KiB; after {args.revisions} more revisions "
          f"({after['revisions']} in all, {after['document_chars'] / 1e6:.1f} M characters of text): "
          + ", ".join(f"{t} {after[t] / 1024:.0f} KiB" for t in TABLES) + f", total {total / 1024 / 1024:.1f} MiB",
          flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--publishes", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--revisions", type=int, default=1000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{tmp}/bench.db", args)
    if not args.skip_postgres:
        from bench.pgcluster import throwaway_postgres

        with throwaway_postgres("content_bench") as url:
            run("PostgreSQL", url, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
