"""The content workbench's console pages (issue 19): how long the live preview endpoint takes (the bot's
dialogue and Telegram renderer on a draft, three languages), the topic editor, the topics list and a history
page, on a fresh SQLite database seeded from content/.

    .venv/bin/python bench/workbench_console.py [--requests 30]

Printed: p50 and p95 of the preview endpoint over `--requests` inputs (each adds a word to the Urdu answer, as
typing does), then one request of each page."""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.storage.migrate import upgrade  # noqa: E402
from tests.test_workbench_web import TOPIC, _form  # noqa: E402
from tests.web_support import Harness  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    upgrade(url)
    harness = Harness(url)
    try:
        client = harness.as_staff("kiran", "editor")
        path = f"/content/topics/{TOPIC}"
        form = _form(client, path)
        times = []
        for _ in range(args.requests):
            form["answer_ur"] += " ا"
            started = time.perf_counter()
            assert client.post(f"/api/content/preview/{TOPIC}", data=form).status_code == 200
            times.append(time.perf_counter() - started)
        times.sort()
        print(f"preview endpoint (3 languages): p50 {statistics.median(times) * 1000:.0f} ms, "
              f"p95 {times[max(0, int(len(times) * 0.95) - 1)] * 1000:.0f} ms over {len(times)} inputs")
        for name, target in (("topic editor", path), ("topics list", "/content"),
                             ("history", f"/content/history/topic/{TOPIC}"), ("facts", "/content/facts")):
            started = time.perf_counter()
            assert client.get(target).status_code == 200
            print(f"{name}: {(time.perf_counter() - started) * 1000:.0f} ms")
    finally:
        harness.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
