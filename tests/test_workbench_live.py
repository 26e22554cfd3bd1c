"""Going live (issue 19): a change published in the workbench reaches every running bot worker within 5 s,
with no restart. Two worker processes (tests/content_worker.py, the content store bot/services.py builds)
on one database, SQLite file and PostgreSQL; this process publishes. The latency is printed
(bench/content_publish.py measures p50/p95 over 20 publishes)."""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time

import pytest

from bot.config import ROOT, Settings
from bot.dialogue.content import read_documents
from bot.editorial import Actor
from bot.services import build_workbench
from bot.storage.db import make_engine

EDITOR, PUBLISHER = Actor("erum", "editor"), Actor("amina", "supervisor")


class Worker:
    def __init__(self, url: str):
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.content_worker", url], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def next(self, timeout: float) -> dict:
        return self.lines.get(timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def publish_greeting(workbench, first_line: str) -> float:
    """Edits the Urdu greeting's first line, submits, approves; returns the time the approval returned."""
    item = workbench.item("topic", "greet")
    text = workbench.revision("topic", "greet").document
    old = workbench.data("topic", "greet")["answer"]["ur"].splitlines()[0]
    saved = workbench.save_draft(EDITOR, "topic", "greet", item.head_version, text=text.replace(old, first_line, 1))
    assert saved.issues == []
    workbench.submit(EDITOR, "topic", "greet", saved.revision.version)
    workbench.approve(PUBLISHER, "topic", "greet", saved.revision.version)
    return time.time()


def test_a_publish_reaches_two_running_workers_within_5_seconds(db_url):
    engine = make_engine(db_url)
    workbench = build_workbench(Settings.from_env(), engine)
    workbench.seed(read_documents(ROOT / "content"))
    workers = [Worker(db_url), Worker(db_url)]
    try:
        ready = [w.next(timeout=60) for w in workers]
        assert all(r["ready"] for r in ready)
        assert ready[0]["line"] == ready[1]["line"] == read_documents(ROOT / "content")["topics/greet.yml"].split("ur: |\n")[1].splitlines()[0].strip()
        latencies = []
        for n, line in enumerate(("السلام علیکم! پہلی اشاعت۔", "السلام علیکم! دوسری اشاعت۔")):
            published_at = publish_greeting(workbench, line)
            for worker in workers:
                seen = worker.next(timeout=10)
                assert seen["line"] == line
                latencies.append(seen["at"] - published_at)
        print(f"\npublish -> worker serves it ({engine.dialect.name}, 2 workers x 2 publishes): "
              + ", ".join(f"{s * 1000:.0f} ms" for s in latencies))
        assert max(latencies) < 5.0
    finally:
        for worker in workers:
            worker.stop()
        engine.dispose()
