"""Settling the futures of callers that wait on shared work (a batch of NLU texts, a group of outbox marks)."""
from __future__ import annotations

import asyncio
from typing import Iterable


def settle(futures: Iterable[asyncio.Future], results: Iterable | None = None,
           error: BaseException | None = None) -> None:
    """Gives each waiting future its result (in order), or every one the error; a cancellation cancels
    them. Futures already done (their caller gave up) are left alone."""
    futures = list(futures)
    outcomes = list(results) if results is not None else [None] * len(futures)
    for future, outcome in zip(futures, outcomes):
        if future.done():
            continue
        if isinstance(error, asyncio.CancelledError):
            future.cancel()
        elif error is not None:
            future.set_exception(error)
        else:
            future.set_result(outcome)
