"""The learning inbox's listing cost: N stored messages (random, few near-duplicates) grouped for the review
page (Review.groups: the training-data check, the ignored-before check, rapidfuzz grouping). Prints seconds.

    .venv/bin/python bench/learning_inbox.py [--rows 2000]
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import ROOT  # noqa: E402
from bot.learning.inbox import Review, candidate  # noqa: E402
from bot.storage import learning_store  # noqa: E402
from bot.storage.db import Base, make_engine, utcnow  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="learning-bench-"))
    try:
        shutil.copytree(ROOT / "nlu" / "data", work / "data")
        engine = make_engine(f"sqlite:///{work / 'bench.db'}")
        Base.metadata.create_all(engine)
        words = sorted({w for line in (work / "data" / "en" / "agent_fees.yml").read_text().split() for w in [line]
                        if w.isalpha()})
        rng = random.Random(1)
        with engine.begin() as conn:
            for index in range(args.rows):
                text = " ".join(rng.sample(words, 8))
                row = candidate(text, rng.choice(["en", "ur-Latn"]), "fallback", intent="agent_fees", confidence=0.3,
                                ranking=[("agent_fees", 0.3)])
                learning_store.add_item(conn, row, utcnow())
        review = Review(engine, work / "data")
        started = time.perf_counter()
        groups = review.groups()
        first = time.perf_counter() - started
        started = time.perf_counter()
        review.groups()
        second = time.perf_counter() - started
        print(f"{args.rows} rows -> {len(groups)} groups: first listing {first:.2f} s (reads the training data), "
              f"next {second:.2f} s")
        engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
