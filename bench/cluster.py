"""Updates per second through the whole topology of scripts/cluster.sh, with 1 and with 2 bot workers.

    .venv/bin/python bench/cluster.py [--users 40] [--messages 10] [--repeats 2] [--workers 1,2]

One cluster (PostgreSQL, two Rasa servers, the console, nginx with TLS) in a throwaway folder on free
ports; `cluster.sh up` with CLUSTER_WORKERS=1, then 2 (nginx is reloaded with the new upstream list).
Worker i asks Rasa server i, so one worker uses one Rasa server and two use two. The tests' Bot API
server (tests/botapi_server.py, threads, in this process) plays Telegram: every user's messages are
pushed at once and POSTed to nginx's webhook over TLS, one chat's updates one after another, up to
`--users` chats at once. Every update is a free-text question from nlu/heldout (no emergencies), so each
goes through the NLU. Prints, per run: updates/s from the first push to the last reply, and the CPU
seconds per update of each part (bots, Rasa servers, PostgreSQL, nginx, this process: the Bot API
server and the webhook sender). Everything shares this machine's cores.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import ROOT  # noqa: E402
from bot.nlu.data import read_tsv  # noqa: E402
from tests.botapi_server import BotAPIServer, text_update  # noqa: E402
from tests.cluster_support import Cluster  # noqa: E402


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, stack = [], [pid]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(children.get(current, ()))
    return out


def parts(cluster: Cluster, workers: int) -> dict[str, list[int]]:
    def pid_of(path: Path) -> int:
        return int(path.read_text().split()[0])

    return {"bots": [cluster.pid(f"bot{i}") for i in range(1, workers + 1)],
            "rasa": [cluster.pid("rasa1"), cluster.pid("rasa2")],
            "postgres": [pid_of(cluster.dir / "pg" / "postmaster.pid")],
            "nginx": [pid_of(cluster.dir / "nginx" / "nginx.pid")],
            "bench": [os.getpid()]}


def cpu_by_part(groups: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(cpu_seconds(p) for pid in pids for p in descendants(pid)) for name, pids in groups.items()}


def run_once(server: BotAPIServer, cluster: Cluster, texts: list[str], users: int, messages: int, base_uid: int,
             workers: int) -> tuple[float, int, dict[str, float]]:
    from sqlalchemy import func, select

    from bot.storage.db import InboxRow, OutboxRow, make_engine

    engine = make_engine(cluster.database_url)
    with engine.connect() as conn:
        done_before = conn.execute(select(func.count()).select_from(InboxRow)).scalar()
    total = users * messages
    groups = parts(cluster, workers)
    cpu_before = cpu_by_part(groups)
    sent_before = len(server.state.sent)
    start = time.monotonic()
    for u in range(users):
        uid = base_uid + u
        for i in range(messages):
            server.state.push(text_update(uid, texts[(uid * messages + i) % len(texts)]))
    deadline = start + 600
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if server.state.undelivered():
            continue
        with engine.connect() as conn:
            done = conn.execute(select(func.count()).select_from(InboxRow).where(InboxRow.status == "done")).scalar()
            pending = conn.execute(select(func.count()).select_from(OutboxRow).where(OutboxRow.status != "sent")).scalar()
        if done - done_before >= total and pending == 0:
            break
    else:
        raise TimeoutError("the cluster did not answer everything within 600 s")
    end = server.state.sent[-1].at
    cpu_after = cpu_by_part(groups)
    engine.dispose()
    return total / (end - start), len(server.state.sent) - sent_before, {
        name: (cpu_after[name] - cpu_before[name]) / total * 1000 for name in groups}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--messages", type=int, default=10, help="messages per user, pushed at once")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", default="1,2", help="worker counts to measure, in this order")
    args = parser.parse_args()
    texts = [e.text for p in sorted((ROOT / "nlu" / "heldout").glob("*.tsv")) for e in read_tsv(p)
             if e.intent != "emergency"]
    random.Random(7).shuffle(texts)
    counts = [int(w) for w in args.workers.split(",")]
    rows = []
    with BotAPIServer(webhook_connections=min(args.users, 40)) as server:
        cluster = Cluster(server.base_url, workers=counts[0], rasa=2,
                          USER_RATE_PER_MINUTE="1000000", USER_BURST="100000")
        server.sender.verify = str(cluster.certificate)
        try:
            uid = 900_000
            for workers in counts:
                cluster.up(CLUSTER_WORKERS=workers)
                run_once(server, cluster, texts, args.users, 1, uid, workers)  # warm-up: connections, caches
                uid += args.users
                for repeat in range(args.repeats):
                    rate, replies, cpu = run_once(server, cluster, texts, args.users, args.messages, uid, workers)
                    uid += args.users
                    rows.append((workers, repeat + 1, rate, replies, cpu))
                    print(f"workers {workers} run {repeat + 1}: {rate:6.1f} updates/s ({args.users} users x "
                          f"{args.messages} texts, {replies} replies); CPU ms per update: "
                          + ", ".join(f"{name} {ms:.1f}" for name, ms in cpu.items()), flush=True)
        finally:
            cluster.down()
            cluster.remove()
    print(f"\nupdates/s through nginx (TLS), {os.cpu_count()} cores, {args.users} users x {args.messages} texts:")
    for workers in dict.fromkeys(counts):
        rates = [rate for w, _, rate, _, _ in rows if w == workers]
        print(f"  {workers} worker(s): " + ", ".join(f"{r:.1f}" for r in rates))


if __name__ == "__main__":
    main()
