"""Classification throughput and latency through the Rasa server.

    .venv/bin/python bench/nlu_throughput.py [--messages 800] [--url URL]

Measures, on held-out messages: the bare Rasa /model/parse, the batching endpoint the bot uses
(/webhooks/safesafar/parse, nlu/safesafar_batch.py) and the whole understanding path (cleaning,
language identification, Rasa, the danger net), with 1 client and with 8 concurrent clients.
Prints messages/s and p50/p95 latency. Uses NLU_URL if a server answers there, else starts one.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bot.config import ROOT, Settings  # noqa: E402
from bot.nlu.data import read_tsv  # noqa: E402
from bot.nlu.server import nlu_server  # noqa: E402
from bot.services import build_understander  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def drive(call, texts: list[str], clients: int) -> tuple[float, list[float]]:
    queue: asyncio.Queue = asyncio.Queue()
    for text in texts:
        queue.put_nowait(text)
    latencies: list[float] = []

    async def worker():
        while not queue.empty():
            text = queue.get_nowait()
            started = time.perf_counter()
            await call(text)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return len(texts) / (time.perf_counter() - started), latencies


async def run(url: str, texts: list[str], settings: Settings) -> None:
    understander, client = build_understander(settings, url)
    raw = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=16))

    async def bare(text):
        (await raw.post(f"{url}/model/parse", json={"text": text})).raise_for_status()

    async def batching(text):
        (await raw.post(f"{url}/webhooks/safesafar/parse", json={"text": text})).raise_for_status()

    async def full(text):
        await understander.understand(text)

    await drive(full, texts[:50], 1)  # warm up
    print(f"{'path':28} {'clients':>7} {'msg/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for name, call in (("bare Rasa /model/parse", bare), ("Rasa batching endpoint", batching),
                       ("SafeSafar understanding", full)):
        for clients in (1, 8):
            rate, lat = await drive(call, texts, clients)
            print(f"{name:28} {clients:7d} {rate:8.1f} {statistics.median(lat):8.1f} {percentile(lat, 0.95):8.1f}")
    await raw.aclose()
    await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=800)
    parser.add_argument("--url")
    args = parser.parse_args()
    settings = Settings.from_env()
    texts = [e.text for p in sorted((ROOT / "nlu" / "heldout").glob("*.tsv")) for e in read_tsv(p)]
    texts = (texts * (args.messages // max(len(texts), 1) + 1))[: args.messages]
    with nlu_server(settings, args.url, log=sys.stderr) as url:
        asyncio.run(run(url, texts, settings))


if __name__ == "__main__":
    main()
