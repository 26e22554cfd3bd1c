"""Storage cost of one conversation turn, without the NLU or Telegram (issue 15).

    .venv/bin/python bench/storage_turn.py [--turns 2000] [--users 50] [--skip-postgres]

Each turn is what the bot's storage does for one ordinary text message: the update stored in the inbox
(receive), the state and the open case read (load), the turn committed (the state, the inbound and
outbound messages, one reply in the outbox, the inbox mark: one transaction) and the reply marked sent.
Run one after another on one thread, on SQLite (a file) and on PostgreSQL (a throwaway cluster started
by scripts/postgres.sh). Prints wall and CPU milliseconds per turn.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bot.dialogue.engine import Reply  # noqa: E402
from bot.storage.db import make_engine  # noqa: E402
from bot.hotline.turn import TurnRecord, commit_turn, load_turn  # noqa: E402
from bot.storage.hotline_store import HotlineStore, Inbound, Outbox  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from bench.pgcluster import throwaway_postgres  # noqa: E402


def run(url: str, turns: int, users: int, warmup: int = 200) -> dict:
    engine = make_engine(url)
    store, outbox = HotlineStore(engine), Outbox(engine)

    def turn(n: int) -> None:
        user = str(1000 + n % users)
        payload = {"update_id": n, "message": {"chat": {"id": int(user), "type": "private"}, "text": "salam"}}
        store.receive("tg", n, payload, user_key=f"tg:{user}")
        inbound = Inbound("tg", user, user, "text", "what is trafficking", source="tg", update_id=n)
        loaded = load_turn(store, inbound)
        state = loaded.state
        state.language, state.last_topic, state.misses = "en", "define_trafficking", n % 3
        state.data["turns"] = state.data.get("turns", 0) + 1
        record = TurnRecord(inbound, state, "en", [Reply("Trafficking is ...", (), "en", False)],
                            in_meta={"intent": "define_trafficking", "confidence": 0.9}, version=loaded.version,
                            claim_as=outbox.worker)
        items = commit_turn(store, record, lambda outcome, erased: [])
        outbox.sent(*[item.id for item in items])

    for n in range(1, warmup + 1):
        turn(n)
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(warmup + 1, warmup + turns + 1):
        turn(n)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    engine.dispose()
    return {"turns": turns, "wall ms/turn": 1000 * wall / turns, "cpu ms/turn": 1000 * cpu / turns}


def show(name: str, result: dict) -> None:
    print(f"{name:<11} " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                     for k, v in result.items()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        show("SQLite:", run(url, args.turns, args.users))
    if args.skip_postgres:
        return
    with throwaway_postgres(base_port=56_000) as url:
        upgrade(url)
        show("PostgreSQL:", run(url, args.turns, args.users))


if __name__ == "__main__":
    main()
