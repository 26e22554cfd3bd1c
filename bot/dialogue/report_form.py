"""The report form: a short guided form whose answers go to the hotline as a high-priority case.

    what happened -> agent or company -> where -> money paid -> may the hotline contact you -> review
    -> send | change an answer | cancel

Pure: the engine renders the steps in the user's language; this module knows the order, what may be
skipped and what a typed "cancel" looks like.
"""
from __future__ import annotations

from ..text import clean

FIELDS = ("what", "who", "where", "money", "contact")
REQUIRED = {"what", "contact"}
MAX_ANSWER = 1000

# typed words that cancel the form, in each language (compared after lower-casing and trimming)
CANCEL_WORDS = {
    "cancel", "stop", "quit", "exit", "cancel report", "stop report",
    "band karo", "bnd kro", "band kro", "ruk jao", "rehne do", "rehnay do", "cancel karo", "cancel kro",
    "nahi bhejna", "mat bhejo",
    "منسوخ", "منسوخ کریں", "منسوخ کرو", "بند کرو", "بند کریں", "رہنے دو", "رک جاؤ", "نہیں بھیجنا", "مت بھیجو",
}


def start() -> dict:
    return {"name": "report", "step": FIELDS[0], "answers": {}, "editing": False}


def is_cancel(text: str) -> bool:
    normalized = " ".join(clean(text).text.lower().strip(" .!?۔؟").split())
    return normalized in CANCEL_WORDS


def answer(flow: dict, value: str | bool | None) -> None:
    """Records the answer to the current step (None: skipped) and moves on: to the next unanswered
    field, or to the review when editing or when all fields are done."""
    step = flow["step"]
    if step not in FIELDS:
        return
    if isinstance(value, str):
        value = value.strip()[:MAX_ANSWER] or None
    flow["answers"][step] = value
    if flow.get("editing"):
        flow["step"], flow["editing"] = "review", False
        return
    index = FIELDS.index(step)
    flow["step"] = FIELDS[index + 1] if index + 1 < len(FIELDS) else "review"


def edit(flow: dict, field: str) -> bool:
    if field not in FIELDS:
        return False
    flow["step"], flow["editing"] = field, True
    return True


def can_skip(step: str) -> bool:
    return step in FIELDS and step not in REQUIRED


def number(step: str) -> int:
    return FIELDS.index(step) + 1


def result(flow: dict) -> dict:
    """What the hotline receives: every field, None where the user skipped it."""
    return {name: flow["answers"].get(name) for name in FIELDS}
