"""Where database work runs relative to the event loop.

SQLite (the embedded default): on the event loop's own thread. Its transactions here are short (a
turn's is well under a millisecond of SQLite's time, WAL with synchronous=NORMAL does not fsync on
commit), and they would queue behind one another anyway (SQLite takes one writer at a time); handing
each to a thread and back cost more CPU than the work and made the two threads trade the GIL (the
Telegram bot went from ~11-13 to ~9 ms of CPU per update without the hops, bench/telegram_e2e.py). Another process that writes (the staff console) is waited for by SQLite's
busy handler.

PostgreSQL: a pool of threads, so that a slow query or a lock wait never stops the event loop.
"""
from __future__ import annotations

import asyncio
import functools
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.engine import Engine

_executors: dict[int, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def executor_for(engine: Engine) -> ThreadPoolExecutor:
    with _lock:
        executor = _executors.get(id(engine))
        if executor is None:
            executor = _executors[id(engine)] = ThreadPoolExecutor(8, thread_name_prefix="db")
        return executor


async def run_db(engine: Engine, fn, *args, **kwargs):
    if engine.dialect.name == "sqlite":
        return fn(*args, **kwargs)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor_for(engine), functools.partial(fn, *args, **kwargs))
