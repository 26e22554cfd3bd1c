"""End-to-end benchmark of the Telegram front end: simulated users send messages through a local Bot
API server (127.0.0.1) to the real bot (python-telegram-bot, dialogue, SQLite state, Rasa NLU).

    .venv/bin/python bench/telegram_e2e.py [--users 40] [--messages 10]

Each user sends a message, waits for the bot's answer, then sends the next. Prints updates/s and the
time from an update being available to the bot's first reply (p50/p95), and peak memory of the bot
process (which also hosts the test Bot API server) and of the Rasa server.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import ROOT, Settings  # noqa: E402
from bot.nlu.data import read_tsv  # noqa: E402
from bot.nlu.server import nlu_server  # noqa: E402
from tests.botapi_server import BotAPIServer, text_update  # noqa: E402


def peak_rss_mb(pid: int | None = None) -> float:
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run(args, settings: Settings, nlu_url: str) -> None:
    from dataclasses import replace

    from bot.i18n import default_i18n
    from bot.services import build_dialogue
    from bot.telegram.app import TelegramFrontEnd, UserRateLimit

    texts = [e.text for p in sorted((ROOT / "nlu" / "heldout").glob("*.tsv")) for e in read_tsv(p)
             if e.intent != "emergency"]
    random.Random(7).shuffle(texts)
    with tempfile.TemporaryDirectory() as tmp, BotAPIServer() as server:
        local = replace(settings, database_url=f"sqlite:///{tmp}/bench.db")
        dialogue, close = build_dialogue(local, nlu_url)
        front = TelegramFrontEnd(dialogue, default_i18n(), rate_limit=UserRateLimit(per_minute=10_000, burst=1000))
        app = front.build("123456:BENCH", base_url=server.base_url, timeout=30)
        latencies: list[float] = []
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0.0, timeout=1)

            async def user(uid: int) -> None:
                for i in range(args.messages):
                    text = texts[(uid * args.messages + i) % len(texts)]
                    before = len(server.state.messages_to(uid))
                    pushed = time.monotonic()
                    server.state.push(text_update(uid, text))
                    while len(server.state.messages_to(uid)) <= before:
                        await asyncio.sleep(0.002)
                    latencies.append((server.state.messages_to(uid)[before].at - pushed) * 1000)
                    await asyncio.sleep(0.05)  # the next message lands after the rest of the reply

            for uid in range(900000, 900000 + 3):  # warm-up
                server.state.push(text_update(uid, "hello"))
            await asyncio.sleep(2)
            started = time.monotonic()
            await asyncio.gather(*(user(900100 + u) for u in range(args.users)))
            elapsed = time.monotonic() - started
            await app.updater.stop()
            await app.stop()
        await close()
    n = len(latencies)
    ordered = sorted(latencies)
    print(f"users {args.users}, messages {n}, {n / elapsed:.1f} updates/s")
    print(f"update -> first reply: p50 {statistics.median(ordered):.1f} ms, p95 {ordered[int(0.95 * (n - 1))]:.1f} ms, "
          f"max {ordered[-1]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--messages", type=int, default=10)
    args = parser.parse_args()
    settings = Settings.from_env()
    with nlu_server(settings, log=sys.stderr) as url:
        asyncio.run(run(args, settings, url))
        from bot.nlu.server import server_status  # noqa: F401
        print(f"peak memory: bot process {peak_rss_mb():.0f} MB")
        import subprocess

        pids = subprocess.run(["pgrep", "-f", "rasa run --enable-api"], capture_output=True, text=True).stdout.split()
        for pid in pids[:1]:
            print(f"peak memory: Rasa server {peak_rss_mb(int(pid)):.0f} MB")


if __name__ == "__main__":
    main()
