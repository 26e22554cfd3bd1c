"""The hotline's storage, one facade over its three parts: the durable inbox (inbox.py), one
conversation turn in one transaction (turns.py) and the outbox workers' claims (outbox.py)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from .db import utcnow
from .inbox import InboxStore
from .outbox import Outbox, OutboxItem
from .turns import (S_OPEN_CASE, S_OPEN_CASE_FOR_UPDATE, CaseOutcome, Escalation, Inbound, Loaded, OpenCase,
                    TurnConflict, TurnRecord, TurnStore)

__all__ = ["CaseOutcome", "Escalation", "HotlineStore", "Inbound", "Loaded", "OpenCase", "Outbox", "OutboxItem",
           "TurnConflict", "TurnRecord"]


class HotlineStore(InboxStore, TurnStore):
    """order_wait: how long (seconds since it was received) a user's update that is not done holds back
    the user's later updates: in normal operation a turn ends in milliseconds; a row still new after
    that belongs to a process that died (a restart processes it) or that failed."""

    def __init__(self, engine: Engine, staff_chat_id: str = "", console_url: str = "http://127.0.0.1:8080",
                 clock: Callable[[], datetime] = utcnow, order_wait: float = 30.0):
        self.engine = engine
        self.order_wait = timedelta(seconds=order_wait)
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.staff_chat_id = staff_chat_id
        self.console_url = console_url
        self.clock = clock
        self.postgres = engine.dialect.name == "postgresql"
        # PostgreSQL: the open case is locked for the turn (a staff change waits); SQLite's write lock covers it
        self.s_open_case = S_OPEN_CASE_FOR_UPDATE if self.postgres else S_OPEN_CASE
