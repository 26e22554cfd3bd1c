"""The hotline's storage, one facade over its three parts: the durable inbox (inbox.py), one
conversation turn's reads and writes (turns.py, the case's through cases.py) and the outbox workers'
claims (outbox.py)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Callable, Iterator

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from .cases import SqlCaseRepository
from .db import utcnow
from .inbox import InboxStore
from .outbox import Outbox, OutboxItem
from .turns import Inbound, OpenCase, Stored, TurnConflict, TurnStore, TurnWrites

__all__ = ["HotlineStore", "Inbound", "OpenCase", "Outbox", "OutboxItem", "Stored", "TurnConflict", "TurnWrites"]


class HotlineStore(InboxStore, TurnStore):
    """order_wait: how long (seconds since it was received) a user's update that is not done holds back
    the user's later updates: in normal operation a turn ends in milliseconds; a row still new after
    that belongs to a process that died (a restart processes it) or that failed.
    staff_chat_id, console_url: where staff alerts go and the console they link to (settings)."""

    def __init__(self, engine: Engine, staff_chat_id: str = "", console_url: str = "http://127.0.0.1:8080",
                 clock: Callable[[], datetime] = utcnow, order_wait: float = 30.0):
        self.engine = engine
        self.order_wait = timedelta(seconds=order_wait)
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.staff_chat_id = staff_chat_id
        self.console_url = console_url
        self.clock = clock
        # PostgreSQL: the open case is locked for the turn (a staff change waits); SQLite's write lock covers it
        self.postgres = engine.dialect.name == "postgresql"

    @contextmanager
    def cases(self) -> Iterator[SqlCaseRepository]:
        """The case repository in a transaction of its own (the staff-group commands)."""
        with self.engine.begin() as conn:
            yield SqlCaseRepository(conn, lock=False)
