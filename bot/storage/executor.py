"""Where database work runs off the event loop. SQLite takes one writer at a time: its transactions
from this process go through one thread, so they queue in Python instead of sleeping in SQLite's busy
handler (which backs off up to 100 ms a try). PostgreSQL gets a pool of threads."""
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
            workers = 1 if engine.dialect.name == "sqlite" else 8
            executor = _executors[id(engine)] = ThreadPoolExecutor(workers, thread_name_prefix="db")
        return executor


async def run_db(engine: Engine, fn, *args, **kwargs):
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor_for(engine), functools.partial(fn, *args, **kwargs))
