"""End-to-end benchmark of the Telegram front end.

    .venv/bin/python bench/telegram_e2e.py [--users 40] [--messages 10] [--rate 1000] [--offered 100]

The real bot runs as its own process (`safesafar run` with TELEGRAM_BOT_TOKEN, long polling) against a
Bot API server on 127.0.0.1 in this process (bench/botapi_async.py, in the users' event loop; or with
`--server threads` the tests' tests/botapi_server.py, which costs this process more CPU on the same
cores), with the Rasa NLU server and a SQLite database. Simulated users each send a message, wait for the bot's first reply (the latency measured) and for
the end of its answer (50 ms without a new message), then send the next. Prints updates/s, the time from an update being available to the first reply (p50/p95), and the
peak memory (VmHWM) of the bot process and of the Rasa server.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import ROOT, Settings  # noqa: E402
from bot.nlu.data import read_tsv  # noqa: E402
from bot.nlu.server import nlu_server  # noqa: E402
from bench.botapi_async import AsyncBotAPI  # noqa: E402
from tests.botapi_server import BotAPIServer, button_update, text_update  # noqa: E402


def peak_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int, system: bool = False) -> float:
    """User + system CPU time of a process so far (children that were waited for included); with
    system=True the system (kernel) part only."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    picked = (fields[12], fields[14]) if system else fields[11:15]
    return sum(int(f) for f in picked) / os.sysconf("SC_CLK_TCK")


def nlu_batches(url: str) -> tuple[int, int, float, float]:
    """(batches, messages, seconds, CPU seconds) the NLU server's batching endpoint has parsed, in its
    parse runs (one Sanic worker's count)."""
    try:
        stats = httpx.get(f"{url}/webhooks/safesafar/", timeout=5).json()
        return stats["batches"], stats["messages"], stats.get("parse_seconds", 0.0), stats.get("parse_cpu_seconds", 0.0)
    except (httpx.HTTPError, ValueError, KeyError):
        return 0, 0, 0.0, 0.0


def rasa_pids() -> list[int]:
    out = subprocess.run(["pgrep", "-f", "rasa run --enable-api"], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def pick_button(sent: list, rng: random.Random) -> tuple[str, object] | None:
    """A button of the reply just received (not one that asks for a person: that opens a case)."""
    choices = [(button["callback_data"], message) for message in sent if message.reply_markup
               for row in message.reply_markup.get("inline_keyboard", []) for button in row
               if button.get("callback_data") and not button["callback_data"].startswith("act:human")]
    return rng.choice(choices) if choices else None


async def simulate(server: BotAPIServer | AsyncBotAPI, texts: list[str], users: int, messages: int,
                   mix: str = "text", offered: float = 0.0) -> tuple[float, list[float], Counter]:
    """offered > 0: open loop, `offered` updates/s in all, each user sending every users/offered
    seconds (their starts spread evenly), or at once after the reply if that came later (counted as
    "late"). 0: closed loop, each user's next message 50 ms after the end of the bot's answer."""
    loop = asyncio.get_running_loop()
    events: dict[int, asyncio.Event] = {}
    if isinstance(server, AsyncBotAPI):  # replies are recorded in this loop
        server.listeners.append(lambda m: events[m.chat_id].set() if m.chat_id in events else None)
    else:  # in the server's threads
        server.state.listeners.append(
            lambda m: loop.call_soon_threadsafe(events[m.chat_id].set) if m.chat_id in events else None)
    latencies: list[float] = []
    slowest: list = []  # (latency, when, user, update) of every update, for the report of the slowest
    lost: list[int] = []

    kinds: Counter = Counter()

    async def user(uid: int) -> None:
        events[uid] = asyncio.Event()
        rng = random.Random(uid)
        last: list = []
        for i in range(messages):
            if offered:
                interval = users / offered
                due = started + ((uid - 900100) / users + i) * interval
                if time.monotonic() > due + 0.005:
                    kinds["late"] += 1
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            button = pick_button(last, rng) if mix == "conversation" and i % 2 else None
            if button:
                update = button_update(uid, button[0], button[1])
                kinds["button"] += 1
            else:
                update = text_update(uid, texts[(uid * messages + i) % len(texts)])
                kinds["text"] += 1
            before = server.state.count_to(uid)
            events[uid].clear()
            pushed = time.monotonic()
            server.state.push(update)
            while server.state.count_to(uid) <= before:
                try:
                    await asyncio.wait_for(events[uid].wait(), timeout=30)
                except asyncio.TimeoutError:
                    lost.append(uid)
                    break
                events[uid].clear()
            else:
                latencies.append((server.state.by_chat[uid][before].at - pushed) * 1000)
                slowest.append((latencies[-1], pushed - started, uid, update))
            # the next message once the turn is over: 50 ms without a new message to this user. (A fixed
            # 50 ms after the first reply let a turn's later messages, sent late under load, pass for the
            # first reply to the next message: users ran ahead of the bot and queued turns behind their
            # own, which no person typing does)
            while True:
                seen = server.state.count_to(uid)
                await asyncio.sleep(0.05)
                if server.state.count_to(uid) == seen:
                    break
            last = server.state.messages_to(uid)[before:]

    started = time.monotonic()
    await asyncio.gather(*(user(900100 + u) for u in range(users)))
    if lost:
        print(f"warning: {len(lost)} messages got no reply within 30 s", file=sys.stderr)
    if os.environ.get("BENCH_SLOWEST"):
        for latency, when, uid, update in sorted(slowest, key=lambda s: s[0], reverse=True)[:int(os.environ["BENCH_SLOWEST"])]:
            what = (update.get("message") or {}).get("text") or (update.get("callback_query") or {}).get("data")
            print(f"slow: {latency:.0f} ms, sent at {when:.2f} s by {uid}: {what!r}", file=sys.stderr)
    return time.monotonic() - started, latencies, kinds


async def drive(args, settings: Settings, url: str, tmp: str, texts: list[str]):
    """Starts the Bot API server and the bot, warms up, runs the users; what main() reports."""
    if args.server == "asyncio":
        server = AsyncBotAPI()
        await server.start()
        wait_for = server.wait_until
    else:
        server = BotAPIServer().__enter__()

        async def wait_for(predicate, timeout):
            return await asyncio.to_thread(server.state.wait_for, predicate, timeout)
    try:
        env = dict(os.environ, TELEGRAM_BOT_TOKEN="123456:BENCH", TELEGRAM_API_BASE_URL=server.base_url,
                   TELEGRAM_MAX_RATE=str(args.rate), NLU_URL=url, DATABASE_URL=f"sqlite:///{tmp}/bench.db",
                   CONSOLE_AUTOSTART="false", USER_BURST="1000", USER_RATE_PER_MINUTE="6000")
        command = [str(ROOT / ".venv" / "bin" / "safesafar"), "run"]
        if os.environ.get("BENCH_PROFILE"):  # profile the bot: python -m cProfile -o FILE
            command = [sys.executable, "-m", "cProfile", "-o", os.environ["BENCH_PROFILE"], *command]
        if os.environ.get("BENCH_WRAP"):  # e.g. "py-spy record -f raw -o FILE --idle --"
            command = [*os.environ["BENCH_WRAP"].split(), *command]
        bot = subprocess.Popen(command, env=env,
                               stdout=subprocess.DEVNULL, stderr=open(os.environ.get("BENCH_LOG", str(Path(tmp) / "bot.log")), "w"))
        try:
            await wait_for(lambda: any(c.method == "getUpdates" for c in server.state.calls), 120)
            for uid in range(900000, 900003):  # warm-up
                server.state.push(text_update(uid, "hello"))
            await wait_for(lambda: all(server.state.count_to(u) for u in range(900000, 900003)), 60)
            calls_before = len(server.state.calls)
            batches_before = nlu_batches(url)
            attached = None
            if os.environ.get("BENCH_ATTACH"):  # e.g. "py-spy record -f raw -o FILE --pid {pid}": the load only
                attached = subprocess.Popen(os.environ["BENCH_ATTACH"].format(pid=bot.pid).split())
                await asyncio.sleep(1)
            cpu_before = {pid: cpu_seconds(pid) for pid in [bot.pid, os.getpid(), *rasa_pids()]}
            bot_system_before = cpu_seconds(bot.pid, system=True)
            elapsed, latencies, kinds = await simulate(server, texts, args.users, args.messages, args.mix, args.offered)
            if attached is not None:
                attached.send_signal(signal.SIGINT)
                await asyncio.to_thread(attached.wait, 60)
            cpu = {pid: cpu_seconds(pid) - before for pid, before in cpu_before.items()}
            bot_system = cpu_seconds(bot.pid, system=True) - bot_system_before
            batches_after = nlu_batches(url)
            methods = Counter(call.method for call in server.state.calls[calls_before:])
            bot_peak = peak_mb(bot.pid)
        finally:
            bot.send_signal(signal.SIGINT)
            try:
                await asyncio.to_thread(bot.wait, 30)  # the server keeps answering while the bot stops
            except subprocess.TimeoutExpired:
                bot.kill()
        return (elapsed, latencies, kinds, cpu, bot_system, batches_before, batches_after, methods, bot_peak,
                bot.pid)
    finally:
        if isinstance(server, AsyncBotAPI):
            await server.stop()
        else:
            server.__exit__(None, None, None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--messages", type=int, default=10,
                        help="per user (the bot runs here with the per-user limit lifted: USER_BURST=1000)")
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="outgoing messages/s the bot allows itself (Telegram allows ~30; the local server more)")
    parser.add_argument("--offered", type=float, default=0.0,
                        help="open loop: updates/s offered by all users together (each user sends every "
                             "users/offered s); 0 (default): closed loop, as fast as the bot answers")
    parser.add_argument("--server", choices=("asyncio", "threads"), default="asyncio",
                        help="the local Bot API server: asyncio (bench/botapi_async.py, in the users' event loop; "
                             "default) or threads (tests/botapi_server.py, what the tests use: ~2.5 ms of CPU per "
                             "update more on the same cores)")
    parser.add_argument("--mix", choices=("text", "conversation"), default="text",
                        help="text: every update is a free-text question (each goes through the NLU, the worst "
                             "case); conversation: a question, then a tap on a button of the reply, in turn")
    args = parser.parse_args()
    settings = Settings.from_env()
    texts = [e.text for p in sorted((ROOT / "nlu" / "heldout").glob("*.tsv")) for e in read_tsv(p)
             if e.intent != "emergency"]
    random.Random(7).shuffle(texts)
    with nlu_server(settings, log=sys.stderr) as url, tempfile.TemporaryDirectory() as tmp:
        (elapsed, latencies, kinds, cpu, bot_system, batches_before, batches_after, methods, bot_peak,
         bot_pid) = asyncio.run(drive(args, settings, url, tmp, texts))
        rasa = rasa_pids()
        rasa_peak = sum(peak_mb(pid) for pid in rasa)
    n = len(latencies)
    ordered = sorted(latencies)
    late = kinds.pop("late", 0)
    offered = f"offered {args.offered:g}/s ({late} sent late, after a slow reply), " if args.offered else ""
    print(f"users {args.users}, updates {n} ({', '.join(f'{c} {k}' for k, c in kinds.most_common())}), "
          f"bot's outgoing limit {args.rate:g}/s: {offered}{n / elapsed:.1f} updates/s")
    print(f"update -> first reply: p50 {statistics.median(ordered):.1f} ms, p95 {ordered[int(0.95 * (n - 1))]:.1f} ms, "
          f"max {ordered[-1]:.1f} ms")
    per_update = {name: sum(v for pid, v in cpu.items() if pick(pid)) * 1000 / max(n, 1) for name, pick in (
        ("bot", lambda pid: pid == bot_pid), ("Rasa", lambda pid: pid in rasa),
        ("benchmark (Bot API server + users)", lambda pid: pid == os.getpid()))}
    print("CPU per update: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in per_update.items())
          + f" (2 cores give {2000 / max(sum(per_update.values()), 1e-9):.0f} updates/s at most); "
          f"the bot's in the kernel {bot_system * 1000 / max(n, 1):.1f} ms")
    batches, parsed, wall, busy = (after - before for after, before in zip(batches_after, batches_before))
    if batches:
        print(f"NLU: {parsed} parses in {batches} batches ({parsed / batches:.1f} per batch; "
              f"{settings.nlu_workers} Rasa worker(s)); a batch's parse took {wall * 1000 / batches:.1f} ms "
              f"({busy * 1000 / batches:.1f} ms of CPU), {batches / elapsed:.1f} batches/s")
    print("Bot API calls per update: " + ", ".join(f"{m} {c / max(n, 1):.2f}" for m, c in methods.most_common()))
    print(f"peak memory: bot process {bot_peak:.0f} MB, Rasa server ({len(rasa)} processes) {rasa_peak:.0f} MB")


if __name__ == "__main__":
    main()
