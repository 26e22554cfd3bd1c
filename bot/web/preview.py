"""What Telegram will show for a topic, before it is published: the editor's draft is put into a copy of
the current content snapshot and the bot's own code answers a press of the topic's button (and of its
"More" button) in the chosen language; the replies go through the same merging (hotline/service.py) and
the same Telegram renderer (bot/telegram/render.py: the HTML subset, escaping, bidi isolation of left-to-right
runs in Urdu, splitting under 4,096 characters, the keyboard on the last piece). The word count of the
first message is the one `safesafar content check` enforces (content_check.words, MAX_WORDS).

Pure: no database, no network. The console's preview endpoint and the facts page call it."""
from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup, escape

from ..dialogue import content_check
from ..dialogue.content import FACT, Content, Topic, _as_date
from ..dialogue.engine import Dialogue, merge_replies
from ..dialogue.state import ConversationState
from ..i18n import I18n
from ..telegram import render

MAX_WORDS = content_check.MAX_WORDS


@dataclass
class Message:
    """One Telegram message: its text as Telegram HTML (parse_mode HTML) and the button labels by row."""
    html: str
    buttons: list[list[str]] = field(default_factory=list)

    @property
    def markup(self) -> Markup:
        """The message's HTML, safe to put into a console page. The renderer escapes every text node and
        adds no tags (render.to_html), so this is the text as Telegram draws it; anything else that looks
        like a tag is escaped again rather than trusted."""
        return Markup(self.html) if "<" not in self.html and ">" not in self.html else escape(self.html)

    @property
    def chars(self) -> int:
        return len(self.html)


@dataclass
class Preview:
    language: str
    rtl: bool
    answer: list[Message]  # the first answer, as sent (split when over the limit)
    more: list[Message]  # what the "More" button shows ([] when the topic has no details or sources)
    words: int  # words of the first message (content check's count)
    limit: int = MAX_WORDS
    missing: list[str] = field(default_factory=list)  # fields without text in this language (fallback shown)
    errors: list[str] = field(default_factory=list)

    @property
    def over(self) -> bool:
        return self.words > self.limit

    def as_json(self) -> dict:
        def messages(items):
            return [{"html": m.html, "buttons": m.buttons, "chars": m.chars} for m in items]
        return {"language": self.language, "rtl": self.rtl, "answer": messages(self.answer),
                "more": messages(self.more), "words": self.words, "limit": self.limit, "over": self.over,
                "missing": self.missing, "errors": self.errors}


def _texts(value) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v).strip() for k, v in value.items() if v is not None and str(v).strip()}


def topic_from(data: dict, base: Topic | None = None) -> Topic:
    """A Topic from an editor's fields (title/answer/more per language, buttons, intents, sources, reviewed);
    what the form does not give comes from `base` (the published topic)."""
    def get(name, default):
        return data[name] if name in data and data[name] is not None else default

    reviewed = get("reviewed", base.reviewed if base else None)
    return Topic(id=str(get("id", base.id if base else "draft")),
                 intents=list(get("intents", base.intents if base else [])),
                 title=_texts(get("title", base.title if base else {})),
                 answer=_texts(get("answer", base.answer if base else {})),
                 buttons=[b for b in get("buttons", base.buttons if base else []) if isinstance(b, dict)],
                 sources=[s for s in get("sources", base.sources if base else []) if isinstance(s, dict)],
                 reviewed=reviewed if isinstance(reviewed, date) else _as_date(reviewed),
                 needs_review=bool(get("needs_review", base.needs_review if base else False)),
                 placeholders=list(get("placeholders", base.placeholders if base else [])),
                 more=_texts(get("more", base.more if base else {})),
                 keywords=dict(get("keywords", base.keywords if base else {})),
                 menu=get("menu", base.menu if base else None))


class _Snapshot:
    """A ContentStore that always gives one Content (the Dialogue's port)."""

    def __init__(self, content: Content):
        self.content = content

    def get(self) -> Content:
        return self.content


def with_topic(content: Content, topic: Topic) -> Content:
    """A shallow copy of the snapshot in which `topic` replaces (or joins) the topic of the same id."""
    draft = copy.copy(content)
    draft.topics = {**content.topics, topic.id: topic}
    return draft


def with_fact(content: Content, fact) -> Content:
    draft = copy.copy(content)
    draft.facts = {**content.facts, fact.id: fact}
    return draft


def _press(dialogue: Dialogue, language: str, payload: str) -> list:
    state = ConversationState(user="preview", language=language, language_chosen=True)
    turn = asyncio.run(dialogue.process_button(state, payload))
    return merge_replies(list(turn.replies))


def _render(replies) -> list[Message]:
    out = []
    for reply in replies:
        for html_text, markup in render.messages(reply):
            rows = [[b.text for b in row] for row in markup.inline_keyboard] if markup else []
            out.append(Message(html_text, rows))
    return out


def preview_topic(content: Content, topic: Topic | dict, language: str, i18n: I18n | None = None) -> Preview:
    """What a user whose language is `language` gets on Telegram for `topic` (a Topic, or an editor's
    fields as a dict over the published topic of the same id) with everything else as in `content`."""
    if isinstance(topic, dict):
        topic = topic_from(topic, content.topics.get(str(topic.get("id", ""))))
    if language not in content.languages:
        raise ValueError(f"unknown language {language!r}")
    draft = with_topic(content, topic)
    dialogue = Dialogue(None, _Snapshot(draft), i18n or I18n())
    missing = [name for name in ("title", "answer", "more") if getattr(topic, name) and
               not getattr(topic, name).get(language)]
    errors = []
    for text in (topic.answer.get(language, ""), topic.more.get(language, "")):
        errors += [f"{{fact:{m}}}" for m in FACT.findall(text) if m not in content.facts]
    answer = _render(_press(dialogue, language, f"topic:{topic.id}"))
    more = _render(_press(dialogue, language, f"more:{topic.id}")) if (topic.more or topic.sources) else []
    return Preview(language=language, rtl=content.languages[language].rtl, answer=answer, more=more,
                   words=content_check.words(draft.answer(topic.id, language)), missing=missing,
                   errors=[f"unknown fact {e}" for e in errors])


def fact_uses(content: Content, fact_id: str) -> list[tuple[str, str, str]]:
    """Where a fact is quoted: (topic id, field, language) for every topic text with {fact:ID}."""
    token = f"{{fact:{fact_id}}}"
    uses = []
    for topic in content.topics.values():
        for name in ("answer", "more", "title"):
            for lang, text in getattr(topic, name).items():
                if token in text:
                    uses.append((topic.id, name, lang))
    return uses


def fact_shown(content: Content, fact, language: str) -> Message:
    """The fact as users see it in `language` (its unconfirmed wording while needs_review), rendered."""
    text = with_fact(content, fact).fact(fact.id, language)
    rtl = content.languages[language].rtl if language in content.languages else False
    return Message(render.to_html(text, rtl))
