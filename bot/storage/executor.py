"""Where database work runs relative to the event loop.

SQLite (the embedded default): on the event loop's own thread, with a short busy timeout. Its
transactions here are short (a turn's is about a millisecond; WAL with synchronous=NORMAL does not fsync
on commit) and SQLite takes one writer at a time anyway: handing each to a thread and back cost more CPU
than the work. But another process may hold the write lock for long (a console write, `db purge`): the
loop waits for it at most SQLITE_LOOP_BUSY_MS, then the work is run again in a thread, which waits with
the long timeout (db.BUSY_TIMEOUT_MS) while the loop serves every other user. The work must be
repeatable after such a failure: a function whose transactions all roll back on an error (every storage
call the bot makes is one transaction).

PostgreSQL: in threads, so that a slow query or a lock wait never stops the event loop.
"""
from __future__ import annotations

import asyncio
import functools
import sqlite3
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from .db import sqlite_busy_ms

SQLITE_LOOP_BUSY_MS = 200
_threads = ThreadPoolExecutor(16, thread_name_prefix="db")  # threads start when first needed


def _locked(error: OperationalError) -> bool:
    orig = error.orig
    return isinstance(orig, sqlite3.OperationalError) and (
        getattr(orig, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
        or "locked" in str(orig) or "busy" in str(orig))


async def run_db(engine: Engine, fn, *args, **kwargs):
    if engine.dialect.name == "sqlite":
        token = sqlite_busy_ms.set(SQLITE_LOOP_BUSY_MS)
        try:
            return fn(*args, **kwargs)
        except OperationalError as error:
            if not _locked(error):
                raise
        finally:
            sqlite_busy_ms.reset(token)
    # run_in_executor does not carry context variables over: the thread waits with the long busy timeout
    return await asyncio.get_running_loop().run_in_executor(_threads, functools.partial(fn, *args, **kwargs))
