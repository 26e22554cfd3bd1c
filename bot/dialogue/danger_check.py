"""The danger check: what the assistant does with an ambiguous danger signal (bot/safety.py, `ask`).

    ambiguous message -> the confirmed emergency numbers, then "Is someone in danger right now?" [Yes] [No]
    Yes (button, or a typed yes)  -> an urgent case for the hotline, with what fired
    No  (button, or a typed no)   -> no case; the question the message asked is answered
    anything else typed           -> no case; the conversation goes on with the new message

Pure: the state it keeps is a small dict in ConversationState.data (no words of the user), and the
numbers come from the content (the facts quoted by the emergency topic, confirmed ones only).
"""
from __future__ import annotations

from .content import FACT, Content

KEY = "danger_check"


def start(data: dict, fired_by: str, brief: str, intent: str | None) -> None:
    """Remember that the question is open: what fired (lexicon phrases, probability; and the same
    without phrases) and the topic the message would otherwise have had."""
    data[KEY] = {"fired_by": fired_by, "brief": brief, "intent": intent}


def take(data: dict) -> dict | None:
    """The open question, if any, closed: it is asked once, and any answer or other message ends it."""
    return data.pop(KEY, None)


def fired_by_yes(pending: dict | None) -> dict:
    """What the case records for a Yes: fired_by (with the phrases) and fired_brief (without)."""
    if pending is None:
        return {"fired_by": "asked earlier; the user answered yes", "fired_brief": "asked earlier, answered yes"}
    return {"fired_by": f"asked; the user answered yes · {pending.get('fired_by', '')}".rstrip(" ·")[:200],
            "fired_brief": f"asked, answered yes · {pending.get('brief', '')}".rstrip(" ·")}


def emergency_numbers(content: Content, language: str) -> list[tuple[str, str]]:
    """(name, number) of every confirmed fact that the emergency topic quotes, in its order."""
    topic = content.topics.get("emergency")
    if topic is None:
        return []
    out = []
    for fact_id in dict.fromkeys(FACT.findall(content.pick(topic.answer, language))):
        fact = content.facts.get(fact_id)
        if fact is None or fact.needs_review or not fact.value:
            continue
        name = content.pick(fact.unconfirmed, language) if fact.unconfirmed else fact_id
        if name[:1].islower():
            name = name[:1].upper() + name[1:]
        out.append((name, fact.value))
    return out
