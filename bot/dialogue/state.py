"""Conversation state and the repository port that stores it."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class ConversationState:
    user: str
    language: str | None = None  # None until the first message with letters or a choice
    language_chosen: bool = False  # the user picked a language: replies stay in it
    flow: dict | None = None  # an open guided flow, e.g. {"name": "offer_check", ...}
    last_topic: str | None = None
    misses: int = 0  # low-confidence turns in a row
    data: dict = field(default_factory=dict)


class StateRepository(Protocol):
    def get(self, user: str) -> ConversationState: ...
    def save(self, state: ConversationState) -> None: ...
    def delete(self, user: str) -> None: ...


class InMemoryStateRepository:
    def __init__(self):
        self._states: dict[str, ConversationState] = {}

    def get(self, user: str) -> ConversationState:
        state = self._states.get(user)
        return copy.deepcopy(state) if state else ConversationState(user)

    def save(self, state: ConversationState) -> None:
        self._states[state.user] = copy.deepcopy(state)

    def delete(self, user: str) -> None:
        self._states.pop(user, None)
