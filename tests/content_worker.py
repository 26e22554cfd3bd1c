"""A bot worker's content, alone in a process (tests/test_workbench_live.py, bench/content_publish.py): the
database-backed content store as bot/services.py builds it, watched. Prints one JSON line when ready, then
one per change of the Urdu greeting's first line: {"version", "line", "at": time.time()}. Ends when stdin
closes.

    python -m tests.content_worker DATABASE_URL
"""
from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import replace


def main(url: str) -> int:
    from bot.config import Settings
    from bot.services import build_content_store
    from bot.storage.db import make_engine

    settings = replace(Settings.from_env(), database_url=url)
    engine = make_engine(url)
    store = build_content_store(settings, engine, "database")
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()

    def line() -> str:
        return store.get().answer("greet", "ur").splitlines()[0]

    seen = line()
    print(json.dumps({"ready": True, "version": store.version, "line": seen, "at": time.time()}), flush=True)
    while not done.wait(0.02):  # what a turn would see, looked at every 20 ms
        current = line()
        if current != seen:
            seen = current
            print(json.dumps({"version": store.version, "line": current, "at": time.time()}, ensure_ascii=False),
                  flush=True)
    store.close()
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
