"""The outbox: messages to send, written in the transaction of what caused them (turns.py, the
console), claimed and settled by outbox workers (hotline/dispatch.py)."""
from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from .db import OutboxRow, utcnow

OUTBOX = OutboxRow.__table__
_p = bindparam

I_OUTBOX = insert(OUTBOX).returning(OUTBOX.c.id)
U_OUTBOX_SENT = (update(OUTBOX).where(OUTBOX.c.id.in_(_p("ids", expanding=True)), OUTBOX.c.locked_by == _p("worker"))
                 .values(status="sent", sent_at=_p("b_now"), locked_by=None, locked_until=None))
# an earlier reply to the same chat that a worker is delivering right now (its first try, written less
# than `since` ago): the replies of a user's turns handled by two workers go out in the turns' order
S_EARLIER_IN_DELIVERY = (select(OUTBOX.c.id)
                         .where(OUTBOX.c.chat_id == _p("chat"), OUTBOX.c.kind == "reply", OUTBOX.c.status == "pending",
                                OUTBOX.c.id < _p("id"), OUTBOX.c.attempts <= 1, OUTBOX.c.locked_by.is_not(None),
                                OUTBOX.c.created_at > _p("since")).limit(1))


@dataclass
class OutboxItem:
    id: int
    kind: str
    chat_id: str
    payload: dict


class Outbox:
    """Claims and settles outbox rows. A claim is one conditional UPDATE, so that any number of workers
    (threads, processes, hosts) on SQLite or PostgreSQL deliver each row once. A claim is a lease: a
    worker that died leaves rows that others take over when the lease ends, or at once on the same host
    when its process is gone."""

    def __init__(self, engine: Engine, lease_seconds: float = 60.0, clock: Callable[[], datetime] = utcnow):
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.lease = timedelta(seconds=lease_seconds)
        self.clock = clock
        self.host = socket.gethostname()[:30]
        self.worker = f"{self.host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        _LIVE_WORKERS.add(self.worker)

    def claim(self, ids: list[int] | None = None, limit: int = 20) -> list[OutboxItem]:
        now = self.clock()
        with self.sessions.begin() as session:
            query = select(OutboxRow.id).where(OutboxRow.status == "pending",
                                               (OutboxRow.locked_until.is_(None)) | (OutboxRow.locked_until < now))
            if ids is not None:
                query = query.where(OutboxRow.id.in_(ids))
            else:
                query = query.where(OutboxRow.next_attempt_at <= now)
            candidates = session.scalars(query.order_by(OutboxRow.id).limit(limit)).all()
            claimed = []
            for row_id in candidates:
                result = session.execute(
                    update(OutboxRow).where(OutboxRow.id == row_id, OutboxRow.status == "pending",
                                            (OutboxRow.locked_until.is_(None)) | (OutboxRow.locked_until < now))
                    .values(locked_by=self.worker, locked_until=now + self.lease, attempts=OutboxRow.attempts + 1))
                if result.rowcount == 1:
                    claimed.append(row_id)
            rows = session.scalars(select(OutboxRow).where(OutboxRow.id.in_(claimed)).order_by(OutboxRow.id)).all()
            return [OutboxItem(r.id, r.kind, r.chat_id, r.payload) for r in rows]

    def earlier_in_delivery(self, chat_id: str, row_id: int, within: float = 10.0) -> bool:
        """Whether a reply to the chat written before `row_id` is being delivered by a worker now (its
        first try, written less than `within` seconds ago). A reply already retried is not waited for."""
        with self.engine.connect().execution_options(read_only=True) as conn:
            return conn.execute(S_EARLIER_IN_DELIVERY, {"chat": chat_id, "id": row_id, "since": self.clock()
                                                        - timedelta(seconds=within)}).first() is not None

    def sent(self, *row_ids: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(U_OUTBOX_SENT, {"ids": list(row_ids), "worker": self.worker, "b_now": self.clock()})

    def failed(self, row_id: int, error: str, permanent: bool = False) -> None:
        with self.sessions.begin() as session:
            row = session.get(OutboxRow, row_id)
            if row is None or row.locked_by != self.worker:
                return
            row.last_error = error[:200]
            row.locked_by = row.locked_until = None
            if permanent:
                row.status = "dead"
            else:  # 1, 2, 4 ... seconds, at most a minute between tries; tried until it succeeds
                row.next_attempt_at = self.clock() + timedelta(seconds=min(60.0, 2 ** max(row.attempts - 1, 0)))

    def release_dead_workers(self) -> int:
        """Rows claimed by a process of this host that no longer runs (killed, crashed) go back to
        pending at once, instead of waiting for the lease to end."""
        released = 0
        with self.sessions.begin() as session:
            rows = session.scalars(select(OutboxRow).where(OutboxRow.status == "pending",
                                                           OutboxRow.locked_by.like(f"{self.host}:%"))).all()
            for row in rows:
                try:
                    _host, pid, token = row.locked_by.rsplit(":", 2)
                    pid_number = int(pid)
                except ValueError:
                    continue
                if row.locked_by == self.worker:
                    continue
                if pid_number == os.getpid():
                    alive = row.locked_by in _LIVE_WORKERS  # else: an earlier process that had our pid
                else:
                    alive = _pid_alive(pid_number)
                if not alive:
                    row.locked_by = row.locked_until = None
                    released += 1
        return released


_LIVE_WORKERS: set[str] = set()  # the outbox workers of this process


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
