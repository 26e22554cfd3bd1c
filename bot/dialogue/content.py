"""The content store: topics (one YAML file each, every language side by side), facts with their
review status, the offer check's questions, and the languages. Reloads when a file changes."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Mapping

import yaml

FACT = re.compile(r"\{fact:([a-z0-9_]+)\}")
QUESTIONS = re.compile(r"\{questions:(study|job)\}")  # how many questions the offer check asks of a kind
ACTIONS = ("offer_check", "hotline", "human", "report", "menu", "language", "topics")


class ContentError(ValueError):
    pass


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the same data, ~10x faster


def load_yaml(text: str):
    """yaml.safe_load, with libyaml's parser when it is there."""
    return yaml.load(text, Loader=_LOADER)


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    catalog: str
    babel: str
    direction: str = "ltr"
    fallback: str | None = None
    date_format: str = "medium"

    @property
    def rtl(self) -> bool:
        return self.direction == "rtl"


@dataclass(frozen=True)
class Fact:
    id: str
    value: str
    needs_review: bool
    unconfirmed: dict[str, str]
    reviewed: date | None
    sources: list[dict]


@dataclass(frozen=True)
class Topic:
    id: str
    intents: list[str]
    title: dict[str, str]
    answer: dict[str, str]
    buttons: list[dict]
    sources: list[dict]
    reviewed: date | None
    needs_review: bool
    placeholders: list[str] = field(default_factory=list)
    path: Path | None = None
    more: dict[str, str] = field(default_factory=dict)  # the details behind the "More" button
    keywords: dict[str, list[str]] = field(default_factory=dict)  # picks this topic among those sharing an intent
    menu: int | None = None  # its place in the "All topics" list (None: not listed)


def read_documents(root: Path) -> dict[str, str]:
    """Every YAML file under `root`: {path relative to root, with "/": text}."""
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.yml"))}


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


class Content:
    """One consistent snapshot of content/."""

    def __init__(self, root: Path | None = None, documents: Mapping[str, str] | None = None):
        """From the files under `root`, or from `documents`: {path relative to content/ ("facts.yml",
        "topics/greet.yml"): its YAML text}, as the database-backed store assembles them; both parse the
        same way."""
        if documents is None:
            if root is None:
                raise ContentError("content needs a folder or documents")
            documents = read_documents(root)
        self.root = root
        self.documents = dict(documents)
        self.languages = self._load_languages(self._yaml("languages.yml"))
        self.facts = self._load_facts(self._yaml("facts.yml") or {})
        self.topics: dict[str, Topic] = {}
        for name in sorted(n for n in self.documents if n.startswith("topics/") and n.endswith(".yml")):
            topic = self._load_topic(Path(name), self.documents[name])
            if topic.id in self.topics:
                raise ContentError(f"{Path(name).name}: topic id {topic.id!r} is used twice")
            self.topics[topic.id] = topic
        # an intent's main topic is the first (by file name) that lists it without keywords; the topics
        # with keywords answer instead when the message contains one of them
        self.by_intent: dict[str, Topic] = {}
        self.refined: dict[str, list[Topic]] = {}
        for topic in self.topics.values():
            for intent in topic.intents:
                if topic.keywords:
                    self.refined.setdefault(intent, []).append(topic)
                else:
                    self.by_intent.setdefault(intent, topic)
        for intent, topics in self.refined.items():
            self.by_intent.setdefault(intent, topics[0])
        self.derived: dict = {}  # things computed from this snapshot once (the compiled offer check)
        self.offer_check = self._yaml("offer_check.yml") if "offer_check.yml" in self.documents else None
        # crisis mode, questions inside forms, typed answers
        self.conversation = (self._yaml("conversation.yml") or {}) if "conversation.yml" in self.documents else {}

    @classmethod
    def from_documents(cls, documents: Mapping[str, str]) -> "Content":
        return cls(documents=documents)

    def _yaml(self, name: str):
        if name not in self.documents:
            raise ContentError(f"{name} is missing")
        try:
            return load_yaml(self.documents[name])
        except yaml.YAMLError as exc:
            raise ContentError(f"{name}: not valid YAML: {exc}") from exc

    @staticmethod
    def _load_languages(data: dict) -> dict[str, Language]:
        return {code: Language(code=code, name=spec["name"], catalog=spec.get("catalog", code),
                               babel=spec.get("babel", code), direction=spec.get("direction", "ltr"),
                               fallback=spec.get("fallback"), date_format=spec.get("date_format", "medium"))
                for code, spec in data["languages"].items()}

    @staticmethod
    def _load_facts(data: dict) -> dict[str, Fact]:
        return {fid: Fact(fid, str(spec.get("value", "")), bool(spec.get("needs_review", True)),
                          dict(spec.get("unconfirmed") or {}), _as_date(spec.get("reviewed")),
                          list(spec.get("sources") or []))
                for fid, spec in (data.get("facts") or {}).items()}

    @staticmethod
    def _load_topic(path: Path, text: str) -> Topic:
        try:
            data = load_yaml(text)
        except yaml.YAMLError as exc:
            raise ContentError(f"{path.name}: not valid YAML: {exc}") from exc
        if not isinstance(data, dict) or "id" not in data:
            raise ContentError(f"{path.name}: a topic needs at least an id")
        return Topic(id=str(data["id"]), intents=list(data.get("intents") or []), title=dict(data.get("title") or {}),
                     answer={k: str(v).strip() for k, v in (data.get("answer") or {}).items()},
                     buttons=list(data.get("buttons") or []), sources=list(data.get("sources") or []),
                     reviewed=_as_date(data.get("reviewed")), needs_review=bool(data.get("needs_review", False)),
                     placeholders=list(data.get("placeholders") or []), path=path,
                     more={k: str(v).strip() for k, v in (data.get("more") or {}).items()},
                     keywords={k: [str(w).casefold() for w in (v or [])]
                               for k, v in (data.get("keywords") or {}).items()},
                     menu=int(data["menu"]) if data.get("menu") is not None else None)

    # -- rendering -------------------------------------------------------------------------------
    def pick(self, texts: dict[str, str], language: str) -> str:
        """The text in `language`, else along its fallback chain, else English."""
        seen = set()
        code: str | None = language
        while code and code not in seen:
            seen.add(code)
            if texts.get(code):
                return texts[code]
            code = self.languages[code].fallback if code in self.languages else None
        return texts.get("en") or next(iter(texts.values()), "")

    def fact(self, fact_id: str, language: str) -> str:
        fact = self.facts.get(fact_id)
        if fact is None:
            return ""
        if fact.needs_review or not fact.value:
            return self.pick(fact.unconfirmed, language) if fact.unconfirmed else ""
        return fact.value

    def question_count(self, kind: str) -> int:
        questions = (self.offer_check or {}).get("questions") or []
        return sum(kind in (q.get("applies") or ("study", "job")) for q in questions)

    def render(self, text: str, language: str) -> str:
        text = FACT.sub(lambda m: self.fact(m.group(1), language), text)
        return QUESTIONS.sub(lambda m: str(self.question_count(m.group(1))), text) if "{questions:" in text else text

    def answer(self, topic_id: str, language: str) -> str:
        topic = self.topics[topic_id]
        return self.render(self.pick(topic.answer, language), language)

    def menu_topics(self) -> list[str]:
        listed = [t for t in self.topics.values() if t.menu is not None]
        return [t.id for t in sorted(listed, key=lambda t: (t.menu, t.id))]

    def more(self, topic_id: str, language: str) -> str:
        """The details behind the "More" button ("" when the topic has none)."""
        topic = self.topics[topic_id]
        return self.render(self.pick(topic.more, language), language) if topic.more else ""

    def topic_for(self, intent: str, text: str = "", detail: str | None = None) -> Topic | None:
        """The topic answering `intent`: the topic that lists the finer intent `detail` (nlu/contract/finer.yml)
        when the model recognised one; else, among the topics sharing the intent, the one with the longest
        keyword that the text contains (any language's keywords: people mix them), else the intent's
        main topic."""
        if detail and detail in self.by_intent:
            return self.by_intent[detail]
        folded = text.casefold()
        best, length = None, 0
        for topic in self.refined.get(intent, ()):
            found = max((len(w) for words in topic.keywords.values() for w in words if w in folded), default=0)
            if found > length:
                best, length = topic, found
        return best or self.by_intent.get(intent)

    def title(self, topic_id: str, language: str) -> str:
        topic = self.topics.get(topic_id)
        return self.render(self.pick(topic.title, language), language) if topic else topic_id


class ContentStore:
    """Holds the current Content and reloads it when a file under content/ changes (checked at most
    every `interval` seconds) or when `reload()` is called. A broken edit keeps the last good content."""

    def __init__(self, root: Path, interval: float = 1.0, clock=None):
        import time

        self.root = root
        self.interval = interval
        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        self.content = Content(root)
        self._stamp = self._fingerprint()
        self._checked = self._clock()
        self.last_error: str | None = None

    def _fingerprint(self) -> tuple:
        files = sorted(p for p in self.root.rglob("*.yml"))
        return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)

    def get(self) -> Content:
        now = self._clock()
        if now - self._checked >= self.interval:
            self._checked = now
            if self._fingerprint() != self._stamp:
                self.reload()
        return self.content

    def reload(self) -> bool:
        with self._lock:
            stamp = self._fingerprint()
            try:
                content = Content(self.root)
            except Exception as exc:  # keep serving the last good content
                self.last_error = str(exc)
                self._stamp = stamp
                return False
            self.content, self._stamp, self.last_error = content, stamp, None
            return True
