"""Conversation state. It is loaded and stored with each turn's other writes in one transaction by
hotline/turn.py (the conversation service's unit of work); the dialogue core only changes it."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ConversationState:
    user: str
    language: str | None = None  # None until the first message with letters or a choice
    language_chosen: bool = False  # the user picked a language: replies stay in it
    flow: dict | None = None  # an open guided flow, e.g. {"name": "offer_check", ...}
    last_topic: str | None = None
    misses: int = 0  # low-confidence turns in a row
    data: dict = field(default_factory=dict)
