"""The durable inbox: every update received from a channel is stored before the channel is told it
arrived; an update is processed once (done), one a process did not finish is processed at a restart,
and the user each update belongs to orders that user's turns (turns.py waits on earlier new updates)."""
from __future__ import annotations

import logging

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.engine import Connection

from .db import InboxRow

log = logging.getLogger("safesafar.hotline")
INBOX = InboxRow.__table__
_p = bindparam

S_INBOX_STATUS = select(INBOX.c.status).where(INBOX.c.source == _p("src"), INBOX.c.update_id == _p("uid"))
I_INBOX = insert(INBOX)
# text(), not insert().on_conflict_do_nothing(): that construct has no cache key, so SQLAlchemy would
# compile it for every update
I_INBOX_NEW = text("INSERT INTO inbox (source, update_id, payload, status, attempts, received_at, user_key) "
                   "VALUES (:source, :update_id, :payload, 'new', 0, :received_at, :user_key) "
                   "ON CONFLICT (source, update_id) DO NOTHING RETURNING update_id").bindparams(
    bindparam("payload", type_=INBOX.c.payload.type), bindparam("received_at", type_=INBOX.c.received_at.type))
U_INBOX_DONE = (update(INBOX).where(INBOX.c.source == _p("b_src"), INBOX.c.update_id == _p("b_uid"))
                .values(status="done", done_at=_p("b_now")))
# the turn's update marked done unless it was done already (then the turn was stored before)
U_INBOX_DONE_IF_NEW = (update(INBOX).where(INBOX.c.source == _p("b_src"), INBOX.c.update_id == _p("b_uid"),
                                           INBOX.c.status != "done")
                       .values(status="done", done_at=_p("b_now")))
# an earlier update of the same user that is not done yet (new): a turn waits for it; one received more
# than `order_wait` seconds ago no longer holds the user's later turns back (its process died)
S_EARLIER_NEW = (select(INBOX.c.update_id)
                 .where(INBOX.c.source == _p("src"), INBOX.c.user_key == _p("key"), INBOX.c.status == "new",
                        INBOX.c.update_id < _p("uid"), INBOX.c.received_at > _p("since")).limit(1))
U_INBOX_SET_ASIDE = (update(INBOX).where(INBOX.c.source == _p("b_src"), INBOX.c.update_id == _p("b_uid"),
                                         INBOX.c.status == "new").values(status="retry"))


class InboxStore:
    """The inbox's part of HotlineStore (hotline_store.py): uses its engine, sessions, clock and order_wait."""

    def receive(self, source: str, update_id: int, payload: dict, user_key: str | None = None) -> bool:
        """Stores an update before the channel is told it arrived. False: seen before (a duplicate).
        user_key: the user whose conversation it belongs to (Inbound.user_key), for the order of turns."""
        with self.engine.begin() as conn:
            # one statement (SQLite and PostgreSQL): the row comes back only if it was new
            return conn.execute(I_INBOX_NEW, {"source": source, "update_id": update_id, "payload": payload,
                                              "received_at": self.clock(), "user_key": user_key}).first() is not None

    def receive_many(self, source: str, payloads: dict[int, dict],
                     user_keys: dict[int, str | None] | None = None) -> set[int]:
        """`receive` for the updates of one getUpdates answer, in one transaction (one commit instead of
        one per update); the ids that were new."""
        now = self.clock()
        keys = user_keys or {}
        with self.engine.begin() as conn:
            return {update_id for update_id, payload in payloads.items()
                    if conn.execute(I_INBOX_NEW, {"source": source, "update_id": update_id, "payload": payload,
                                                  "received_at": now, "user_key": keys.get(update_id)}).first()
                    is not None}

    def unfinished(self, source: str, max_attempts: int = 3) -> list[dict]:
        """Updates stored but not processed (the process died): each is tried again at most
        `max_attempts` times over restarts, so that a message that crashes the bot cannot loop forever."""
        with self.sessions.begin() as session:
            rows = session.scalars(select(InboxRow).where(InboxRow.source == source,
                                                          InboxRow.status.in_(("new", "retry")))
                                   .order_by(InboxRow.update_id)).all()
            out = []
            for row in rows:
                row.attempts += 1
                if row.attempts > max_attempts:
                    row.status = "failed"
                    log.error("update %s failed %d times: given up", row.update_id, max_attempts)
                    continue
                out.append(row.payload)
            return out

    def mark_done(self, source: str, update_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(U_INBOX_DONE, {"b_src": source, "b_uid": update_id, "b_now": self.clock()})

    def set_aside(self, source: str, update_id: int) -> None:
        """An update whose handling failed: kept for a retry at the next start, but no longer holding the
        user's later updates back."""
        with self.engine.begin() as conn:
            conn.execute(U_INBOX_SET_ASIDE, {"b_src": source, "b_uid": update_id})

    def _earlier_new(self, conn: Connection, inbound) -> bool:
        """An earlier update of the inbound's user, received less than order_wait ago, is not done."""
        return conn.execute(S_EARLIER_NEW, {"src": inbound.source, "key": inbound.user_key, "uid": inbound.update_id,
                                            "since": self.clock() - self.order_wait}).first() is not None
