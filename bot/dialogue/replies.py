"""What a turn produces: replies (text and buttons) in the user's language, and what the turn means for
the hotline (Turn). Plain data, shared by the router, the free-text policy and the flows."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..understanding import Understanding


@dataclass(frozen=True)
class CaseView:
    """The user's open hotline case, as the conversation needs it (the service loads it)."""
    id: int
    priority: str  # urgent | high | normal
    status: str  # new | claimed | waiting | reopened
    target_minutes: int | None = None  # the queue's first-response target for this priority

    @property
    def urgent(self) -> bool:
        return self.priority == "urgent"


@dataclass(frozen=True)
class Button:
    label: str
    payload: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    language: str = "en"
    rtl: bool = False


@dataclass
class Turn:
    replies: list[Reply]
    language: str
    understanding: Understanding | None = None
    escalation: str | None = None  # urgent | high | normal: what the hotline queue must receive
    topic: str | None = None
    reason: str | None = None  # why it escalates: emergency | safety_net | report | human | offer_check
    case: dict = field(default_factory=dict)  # what the case carries besides the transcript (report, offer check)
    case_told: bool = False  # the replies already tell the user about their open case (no reminder needed)
    entities: list = field(default_factory=list)  # what the turn adds to the case besides the NLU's entities
    # for the learning inbox (issue 20): {"source": "fallback" | "ask_back"} for the turn's own message;
    # {"source": "not_helpful", "text", "intent", ...} for a 👎 (the question of the answer it was under)
    learn: dict | None = None
    vote: dict | None = None  # a 👍 / 👎 pressed: {"vote": "up" | "down", "topic"}


MERGE_LIMIT = 3500  # characters: Telegram takes 4096 per message


def merge_replies(replies: list[Reply], limit: int = MERGE_LIMIT) -> list[Reply]:
    """One message per turn where it can be: a reply without buttons joins the next one (its buttons
    stay under both); a reply without buttons after one with buttons joins that one (an acknowledgement
    joins the answer). Two replies that both carry buttons stay two messages."""
    merged: list[Reply] = []
    for reply in replies:
        last = merged[-1] if merged else None
        if (last is not None and last.language == reply.language and (not last.buttons or not reply.buttons)
                and len(last.text) + len(reply.text) + 2 <= limit):
            merged[-1] = Reply(f"{last.text}\n\n{reply.text}", last.buttons or reply.buttons, reply.language,
                               reply.rtl)
        else:
            merged.append(reply)
    return merged


@dataclass
class Out:
    """Replies being built for one turn, in one language."""
    language: str
    rtl: bool
    replies: list[Reply] = field(default_factory=list)
    case: CaseView | None = None  # the user's open case

    def say(self, text: str, *rows: list[Button]) -> None:
        self.replies.append(Reply(text, tuple(tuple(r) for r in rows if r), self.language, self.rtl))

    def turn(self, understanding: Understanding | None = None, escalation: str | None = None,
             topic: str | None = None, **fields) -> Turn:
        """The turn with the replies said so far."""
        return Turn(self.replies, self.language, understanding, escalation, topic, **fields)
