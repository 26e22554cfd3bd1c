"""Escalation benchmark (issue 5).

    .venv/bin/python bench/escalations.py [--cases 400] [--clients 16] [--alerts 40]

1. Sustained escalations/s through the conversation service into the database, with an outbox worker
   delivering every row (replies and staff alerts) at the same time, on SQLite and on PostgreSQL (a
   throwaway cluster started by scripts/postgres.sh). The NLU is an instant stub here: this measures
   the queue, not Rasa. Each escalation is a new user's urgent message: a case, its transcript, the
   messages, 3 outbox rows, the inbox mark, an audit row, in one transaction.
2. Time from a user's urgent message to the staff alert in the staff group, end to end: the real bot
   process with the real NLU, long polling a Bot API server on 127.0.0.1 (p50/p95), on SQLite.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bot.config import ROOT, Settings  # noqa: E402
from bot.contract import load_contract  # noqa: E402
from bot.dialogue.content import ContentStore  # noqa: E402
from bot.dialogue.engine import Dialogue  # noqa: E402
from bot.hotline.dispatch import Dispatcher  # noqa: E402
from bot.hotline.service import ConversationService  # noqa: E402
from bot.i18n import I18n  # noqa: E402
from bot.language import LanguageIdentifier  # noqa: E402
from bot.safety import DangerNet  # noqa: E402
from bot.storage.db import CaseRow, OutboxRow, make_engine  # noqa: E402
from bot.storage.hotline_store import HotlineStore, Inbound, Outbox  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from bot.understanding import NLUResult, Understander  # noqa: E402
from bench.pgcluster import throwaway_postgres  # noqa: E402

URGENT = "they locked my brother in a room in tripoli"


class InstantNLU:
    async def parse(self, text: str) -> NLUResult:
        return NLUResult("emergency", 0.95, [("emergency", 0.95), ("victim_support", 0.02)], [])


def percentile(values, q):
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


async def sustained(url: str, cases: int, clients: int) -> dict:
    engine = make_engine(url, pool_size=clients + 4) if not url.startswith("sqlite") else make_engine(url)
    languages = LanguageIdentifier.from_training_data(ROOT / "nlu" / "data")
    understander = Understander(InstantNLU(), languages, DangerNet.from_file(ROOT / "content/safety/danger_lexicon.yml"),
                                load_contract())
    i18n = I18n()
    dialogue = Dialogue(understander, ContentStore(ROOT / "content"), i18n)
    store = HotlineStore(engine, staff_chat_id="-100", console_url="http://console")
    service = ConversationService(dialogue, store, i18n)
    delivered = 0

    async def deliver(item):
        nonlocal delivered
        delivered += 1

    worker = Dispatcher(Outbox(engine), deliver, interval=0.05, batch=50)
    loop_task = asyncio.create_task(worker.run())
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(cases):
        queue.put_nowait(i)
    latencies: list[float] = []

    async def client() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            started = time.perf_counter()
            await service.handle(Inbound("tg", str(500_000 + i), str(500_000 + i), "text", URGENT,
                                         source="tg", update_id=1_000_000 + i))
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    committed = time.perf_counter() - started
    while True:  # the outbox drains
        with Session(engine) as session:
            pending = session.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "pending"))
        if pending == 0:
            break
        await asyncio.sleep(0.05)
    drained = time.perf_counter() - started
    loop_task.cancel()
    with Session(engine) as session:
        n_cases = session.scalar(select(func.count()).select_from(CaseRow))
        n_rows = session.scalar(select(func.count()).select_from(OutboxRow))
    engine.dispose()
    assert n_cases == cases, (n_cases, cases)
    return {"cases/s": cases / committed, "with outbox drained/s": cases / drained, "outbox rows": n_rows,
            "p50 ms": statistics.median(latencies), "p95 ms": percentile(latencies, 0.95)}


def alert_latency(n: int) -> dict:
    from tests.botapi_server import BotAPIServer, text_update
    from tests.botproc import BotProcess, wait_until
    from bot.nlu.server import nlu_server

    settings = Settings.from_env()
    staff = -100_555
    with nlu_server(settings, log=sys.stderr) as nlu_url, BotAPIServer() as server, \
            tempfile.TemporaryDirectory() as tmp:
        bot = BotProcess(server.base_url, nlu_url, f"sqlite:///{tmp}/bench.db", staff_chat_id=str(staff),
                         log_path=Path(tmp) / "bot.log").start()
        try:
            wait_until(lambda: any(c.method == "getUpdates" for c in server.state.calls), 120)
            server.state.push(text_update(700_000, "hello"))
            wait_until(lambda: server.state.count_to(700_000), 60)
            latencies = []
            for i in range(n):
                uid = 700_001 + i
                before = server.state.count_to(staff)
                pushed = time.monotonic()
                server.state.push(text_update(uid, "please help, they locked my brother in a room in Tripoli"))
                if not wait_until(lambda: server.state.count_to(staff) > before, 30, interval=0.002):
                    raise SystemExit(f"no alert for message {i}\n{bot.log()[-2000:]}")
                latencies.append((server.state.messages_to(staff)[before].at - pushed) * 1000)
                time.sleep(0.1)
        finally:
            bot.stop()
    return {"alerts": len(latencies), "p50 ms": statistics.median(latencies), "p95 ms": percentile(latencies, 0.95),
            "max ms": max(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--alerts", type=int, default=15,
                        help="end-to-end alert latency samples (0: skip). Telegram allows about 20 messages a minute "
                             "in a group, and the bot keeps to that: more alerts than that in a minute queue up")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        result = asyncio.run(sustained(url, args.cases, args.clients))
        print("SQLite:     " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in result.items()))
    if not args.skip_postgres:
        with throwaway_postgres() as url:
            upgrade(url)
            result = asyncio.run(sustained(url, args.cases, args.clients))
            print("PostgreSQL: " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
                                             for k, v in result.items()))
    if args.alerts:
        result = alert_latency(args.alerts)
        print("user's urgent message -> staff alert (real bot process, real NLU, SQLite): "
              + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
