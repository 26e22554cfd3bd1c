"""The SQLAlchemy implementation of the dialogue's StateRepository."""
from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from ..dialogue.state import ConversationState
from .db import ConversationRow


class SqlStateRepository:
    def __init__(self, engine: Engine):
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def get(self, user: str) -> ConversationState:
        with self._sessions() as session:
            row = session.get(ConversationRow, user)
            if row is None:
                return ConversationState(user)
            return ConversationState(user=row.user_key, language=row.language, language_chosen=row.language_chosen,
                                     flow=row.flow, last_topic=row.last_topic, misses=row.misses, data=row.data or {})

    def save(self, state: ConversationState) -> None:
        with self._sessions.begin() as session:
            row = session.get(ConversationRow, state.user)
            if row is None:
                row = ConversationRow(user_key=state.user)
                session.add(row)
            row.language, row.language_chosen = state.language, state.language_chosen
            row.flow = dict(state.flow) if state.flow else None
            row.last_topic, row.misses = state.last_topic, state.misses
            row.data = dict(state.data)

    def delete(self, user: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(ConversationRow, user)
            if row is not None:
                session.delete(row)


