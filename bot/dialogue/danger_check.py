"""The danger check: what the assistant does with an ambiguous danger signal (bot/safety.py, `ask`).

    ambiguous message -> the confirmed emergency numbers, then "Is someone in danger right now?" [Yes] [No]
    Yes (button, or a typed yes)  -> an urgent case for the hotline, with what fired
    No  (button, or a typed no)   -> no case; the question the message asked is answered
    anything else typed           -> no case; the conversation goes on with the new message

The state it keeps is a small dict in ConversationState.data (no words of the user), not
ConversationState.flow: the question may be asked while a form is open, and the form stays open. The
numbers come from the content (the facts quoted by the emergency topic, confirmed ones only).
DangerCheck is registered with the flows for its buttons ("dg:yes", "dg:no"); the free-text policy asks
the question and reads a typed answer.
"""
from __future__ import annotations

from ..understanding import Understanding
from .content import FACT, Content
from .flow import Flow
from .replies import Button, Out, Turn
from .state import ConversationState

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


class DangerCheck(Flow):
    name = KEY
    prefix = "dg"

    def button(self, out: Out, content: Content, state: ConversationState, value: str) -> Turn:
        escalation, reason, case, topic = self.answer(out, content, state, value == "yes")
        return out.turn(escalation=escalation, topic=topic, reason=reason, case=case)

    def ask(self, out: Out, content: Content, state: ConversationState, result: Understanding) -> Turn:
        """An ambiguous danger signal: the confirmed emergency numbers first, then the question."""
        t = self.kit.t
        state.misses = 0
        intent = result.intent if result.intent != "emergency" and not result.fallback else None
        start(state.data, result.safety.describe(), result.safety.brief(), intent)
        numbers = emergency_numbers(content, out.language)
        if numbers:
            out.say(t(out, "If someone is in danger right now, call:") + "\n"
                    + "\n".join(f"• {name}: {number}" for name, number in numbers))
        out.say(t(out, "Is someone in danger right now?"),
                [Button(t(out, "Yes"), "dg:yes"), Button(t(out, "No"), "dg:no")])
        turn = out.turn(result)
        turn.learn = {"source": "ask_back"}
        return turn

    def answer(self, out: Out, content: Content, state: ConversationState, yes: bool,
               pending: dict | None = None) -> tuple[str | None, str | None, dict, str | None]:
        """Yes: an urgent case (also when the question was asked earlier: someone says there is danger).
        No: no case, and the message's own question is answered. Returns (escalation, reason, case, topic)."""
        if pending is None:
            pending = take(state.data)
        if yes:
            self.kit.urgent(out, content, state)
            return "urgent", "safety_net", fired_by_yes(pending), "emergency"
        out.say(self.kit.t(out, "Thank you. If that changes, write to me at any time: the SafeSafar team is there "
                                "for you."))
        topic = content.by_intent.get((pending or {}).get("intent") or "")
        if topic is not None and topic.id != "emergency":
            self.kit.answer_topic(out, content, state, topic.id)
            return None, None, {}, topic.id
        return None, None, {}, None
