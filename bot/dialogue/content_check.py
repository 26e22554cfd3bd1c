"""`safesafar content check`: validates everything editors keep under content/ (and the catalogs).

Errors (exit code 1): a first message (a topic's `answer`) over MAX_WORDS words in some language, or a
language whose median first message is over MEDIAN_WORDS (the details go in `more`), a form that
content/glossary.yml says to avoid (in topics, facts, the offer check and the catalogs), a broken schema, a contract intent without an answer in some language, a button to
a topic that does not exist, a fact reference that does not exist, a substantive topic without sources or
without a review date, an offer-check text missing in a language. Reported, not errors: placeholders
waiting for an editor (needs_review), facts not yet confirmed, review dates older than a year.
"""
from __future__ import annotations

import re
import statistics
from urllib.parse import urlparse
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Mapping

import yaml
from babel.messages.pofile import read_po

from ..contract import Contract
from .content import ACTIONS, FACT, Content, ContentError, load_yaml, read_documents

NO_SOURCES_NEEDED = {"greet", "goodbye", "thank", "affirm", "deny", "out_of_scope", "bot_capabilities", "privacy",
                     "ask_human", "check_study_offer", "check_job_offer"}

MAX_WORDS = 70  # the first message of an answer: one phone screen
MEDIAN_WORDS = 60
_WORD = re.compile(r"\w", re.UNICODE)


def words(text: str) -> int:
    """Words as a reader sees them: whitespace-separated pieces with a letter or digit (not bullets)."""
    return sum(1 for piece in text.split() if _WORD.search(piece))


def first_message_words(content: Content) -> dict[str, dict[str, int]]:
    """{language: {topic: words of the rendered first message}}."""
    return {lang: {t.id: words(content.answer(t.id, lang)) for t in content.topics.values()}
            for lang in content.languages}


def word_stats(root: Path) -> str:
    content = Content(root)
    counts = first_message_words(content)
    langs = list(counts)
    lines = ["words in the first message of each answer (facts rendered as the user sees them)",
             "topic".ljust(24) + "".join(l.rjust(9) for l in langs) + "   more?"]
    for tid, topic in content.topics.items():
        lines.append(tid.ljust(24) + "".join(str(counts[l][tid]).rjust(9) for l in langs)
                     + ("   yes" if topic.more else ""))
    for name, fn in (("median", statistics.median), ("mean", statistics.mean), ("max", max)):
        lines.append(name.ljust(24) + "".join(f"{fn(counts[l].values()):9.0f}" for l in langs))
    over = {l: sum(1 for v in counts[l].values() if v > MAX_WORDS) for l in langs}
    lines.append(f"over {MAX_WORDS}".ljust(24) + "".join(str(over[l]).rjust(9) for l in langs))
    return "\n".join(lines)


@dataclass(frozen=True)
class Avoid:
    term: str
    language: str
    pattern: re.Pattern
    form: str
    use: str
    severity: str = "error"


def load_glossary(root: Path | None, text: str | None = None) -> list[Avoid]:
    """content/glossary.yml (or its text): terms with their form per language and the forms to avoid
    (regular expressions, case-insensitive)."""
    if text is None:
        path = root / "glossary.yml" if root is not None else None
        if path is None or not path.is_file():
            return []
        text = path.read_text(encoding="utf-8")
    data = load_yaml(text) or {}
    rules = []
    for term, spec in (data.get("terms") or {}).items():
        for lang, forms in (spec.get("avoid") or {}).items():
            for form in forms or ():
                rules.append(Avoid(term, lang, re.compile(form, re.IGNORECASE), form, str(spec.get(lang, "")),
                                   str(spec.get("severity", "error"))))
    return rules


def _glossary_texts(content: Content, locales: Path | None):
    """(where, language, text) of everything users read."""
    for topic in content.topics.values():
        for part in ("title", "answer", "more"):
            for lang, text in (getattr(topic, part) or {}).items():
                yield f"topics/{topic.id}.yml {part}.{lang}", lang, str(text)
    for fact in content.facts.values():
        for lang, text in fact.unconfirmed.items():
            yield f"facts.yml {fact.id}.unconfirmed.{lang}", lang, str(text)

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in content.languages and isinstance(value, str):
                    yield f"offer_check.yml {path}.{key}", key, value
                else:
                    yield from walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from walk(value, f"{path}[{i}]")
    yield from walk(content.offer_check or {}, "")
    if locales is not None:
        for lang in content.languages.values():
            for po in sorted((locales / lang.catalog / "LC_MESSAGES").glob("*.po")):
                with po.open("rb") as handle:
                    catalog = read_po(handle)
                for message in catalog:
                    if not message.id:
                        continue
                    texts = message.string if isinstance(message.string, (list, tuple)) else [message.string]
                    if lang.code == "en" and not any(texts):  # English catalogs keep the text in the msgid
                        texts = message.id if isinstance(message.id, (list, tuple)) else [message.id]
                    for text in texts:
                        if text:
                            yield f"locales/{lang.catalog}/{po.name} {str(message.id)[:40]!r}", lang.code, text


def glossary_check(content: Content, locales: Path | None, report: "Report") -> int:
    """The glossary of the same snapshot (content.documents["glossary.yml"]) over its texts."""
    text = content.documents.get("glossary.yml")
    if text is None:
        report.warnings.append("glossary.yml is missing: avoided forms are not checked")
        return 0
    try:
        rules = load_glossary(None, text)
        data = load_yaml(text) or {}
    except (yaml.YAMLError, re.error, AttributeError, TypeError) as exc:
        report.errors.append(f"glossary.yml does not load: {exc}")
        return 0
    known = [(str(k.get("where", "")), str(k.get("term", "")), str(k.get("note", "")))
             for k in data.get("known_exceptions") or ()]
    checked = 0
    for where, lang, text in _glossary_texts(content, locales):
        checked += 1
        for rule in rules:
            if rule.language == lang and rule.pattern.search(text):
                found = rule.pattern.search(text).group(0)
                message = f"{where}: {found!r} is a form to avoid for {rule.term!r} (glossary: {rule.use!r})"
                excused = next((note for w, term, note in known if w and where.startswith(w) and term == rule.term),
                               None)
                if excused is not None:
                    report.warnings.append(f"{message}; known exception: {excused}")
                elif rule.severity == "error":
                    report.errors.append(message)
                else:
                    report.warnings.append(message)
    return checked


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)

    def format(self) -> str:
        lines = []
        for title, items in (("ERRORS", self.errors), ("Placeholders for editors", self.placeholders),
                             ("Warnings", self.warnings)):
            if items:
                lines.append(f"{title} ({len(items)}):")
                lines += [f"  - {item}" for item in items]
        lines.append(f"content check: {len(self.errors)} errors, {len(self.placeholders)} placeholders, "
                     f"{len(self.warnings)} warnings")
        return "\n".join(lines)


def _texts_missing(texts, languages, where: str, report: Report) -> None:
    if not isinstance(texts, dict):
        report.errors.append(f"{where}: expected a text per language")
        return
    for lang in languages:
        if not str(texts.get(lang) or "").strip():
            report.errors.append(f"{where}: no {lang} text")


def _facts_used(text: str, content: Content, where: str, report: Report) -> None:
    for fact_id in FACT.findall(text):
        if fact_id not in content.facts:
            report.errors.append(f"{where}: unknown fact {{fact:{fact_id}}}")


def check(root: Path, contract: Contract, locales: Path | None = None, today: date | None = None) -> Report:
    return check_documents(read_documents(root), contract, locales, today)


def check_documents(documents: Mapping[str, str], contract: Contract, locales: Path | None = None,
                    today: date | None = None) -> Report:
    """The same checks on content given as documents ({path under content/: YAML text}): what the
    editors' workbench runs on the content a change would make."""
    report = Report()
    today = today or date.today()
    try:
        content = Content(documents=documents)
    except (ContentError, KeyError, TypeError, ValueError, OSError) as exc:
        report.errors.append(f"content does not load: {exc}")
        return report
    languages = list(content.languages)
    for lang in contract.languages:
        if lang not in content.languages:
            report.errors.append(f"languages.yml: contract language {lang} is missing")
    if locales is not None:
        for lang in content.languages.values():
            if not (locales / lang.catalog / "LC_MESSAGES" / "messages.po").is_file():
                report.errors.append(f"locales/{lang.catalog}/LC_MESSAGES/messages.po missing for {lang.code}")

    year_ago = today - timedelta(days=365)
    for fact in content.facts.values():
        if fact.needs_review:
            report.placeholders.append(f"facts.yml {fact.id}: not confirmed, the bot says instead: "
                                       f"{fact.unconfirmed.get('en', '(nothing)')}")
        _texts_missing(fact.unconfirmed, languages, f"facts.yml {fact.id}.unconfirmed", report)
        if not fact.sources:
            report.errors.append(f"facts.yml {fact.id}: no sources")
        if fact.reviewed is None:
            report.errors.append(f"facts.yml {fact.id}: no review date")
        elif fact.reviewed < year_ago:
            report.warnings.append(f"facts.yml {fact.id}: last reviewed {fact.reviewed}, over a year ago")

    for topic in content.topics.values():
        where = f"topics/{topic.path.name if topic.path else topic.id}"
        if topic.path and topic.path.stem != topic.id:
            report.errors.append(f"{where}: id {topic.id!r} differs from the file name")
        _texts_missing(topic.title, languages, f"{where} title", report)
        _texts_missing(topic.answer, languages, f"{where} answer", report)
        for lang, text in topic.answer.items():
            _facts_used(text, content, f"{where} answer.{lang}", report)
        for intent in topic.intents:
            if intent not in contract.escalation and intent not in contract.finer:
                report.errors.append(f"{where}: {intent!r} is neither a contract intent nor a finer one "
                                     "(nlu/contract/finer.yml)")
        for button in topic.buttons:
            if "topic" in button and button["topic"] not in content.topics:
                report.errors.append(f"{where}: button to unknown topic {button['topic']!r}")
            elif "action" in button and button["action"] not in ACTIONS:
                report.errors.append(f"{where}: unknown button action {button['action']!r}")
            elif "topic" not in button and "action" not in button:
                report.errors.append(f"{where}: a button needs a topic or an action")
        if topic.id not in NO_SOURCES_NEEDED:
            if not topic.sources:
                report.errors.append(f"{where}: no sources")
            for source in topic.sources:
                if not source.get("title") or not source.get("publisher"):
                    report.errors.append(f"{where}: a source needs a title and a publisher")
                url = str(source.get("url") or "")
                if url and urlparse(url).path in ("", "/"):
                    report.warnings.append(f"{where}: source {source.get('title')!r} points to a home page ({url}), "
                                           "not the page that says it")
        if topic.reviewed is None:
            report.errors.append(f"{where}: no review date (reviewed: YYYY-MM-DD)")
        elif topic.reviewed < year_ago:
            report.warnings.append(f"{where}: last reviewed {topic.reviewed}, over a year ago")
        if topic.needs_review:
            notes = "; ".join(str(p) for p in topic.placeholders) or "no note saying what to check"
            report.placeholders.append(f"{where}: needs review: {notes}")

    counts = first_message_words(content)
    for lang, by_topic in counts.items():
        for tid, n in by_topic.items():
            if n > MAX_WORDS:
                report.errors.append(f"topics/{tid}.yml answer.{lang}: the first message has {n} words "
                                     f"(at most {MAX_WORDS}; move details to `more`)")
        if by_topic and statistics.median(by_topic.values()) > MEDIAN_WORDS:
            report.errors.append(f"{lang}: the median first message has {statistics.median(by_topic.values()):.0f} "
                                 f"words (at most {MEDIAN_WORDS})")
    for topic in content.topics.values():
        for lang, text in topic.more.items():
            _facts_used(text, content, f"topics/{topic.id}.yml more.{lang}", report)
        if topic.more:
            _texts_missing(topic.more, languages, f"topics/{topic.id}.yml more", report)
    glossary_check(content, locales, report)

    for intent in contract.intents:
        if intent not in content.by_intent or content.by_intent[intent].keywords:
            report.errors.append(f"contract intent {intent!r} has no topic answering it "
                                 "(topics with keywords answer it only when a keyword matches)")
    for intent, parent in contract.finer.items():
        topic = content.by_intent.get(intent)
        if topic is None:
            report.errors.append(f"finer intent {intent!r} has no topic listing it")
        elif parent not in topic.intents:
            report.errors.append(f"topics/{topic.id}.yml lists the finer intent {intent!r} but not its contract "
                                 f"intent {parent!r}")
    linked = {b["topic"] for t in content.topics.values() for b in t.buttons if "topic" in b}
    for topic in content.topics.values():
        if not topic.intents and topic.id not in linked:
            report.errors.append(f"topics/{topic.id}.yml: unreachable (no intent answers with it, no button leads to it)")

    spec = content.offer_check
    if spec is None:
        report.errors.append("offer_check.yml is missing")
    else:
        try:
            _check_offer(spec, content, languages, report)
        except (KeyError, TypeError, ValueError) as exc:
            report.errors.append(f"offer_check.yml: {exc!r}")
    _check_conversation(content, languages, report)
    return report


def _check_conversation(content: Content, languages: list[str], report: Report) -> None:
    """conversation.yml: every answer in every language, phrases that parse, review marks listed."""
    from .listening import Listening

    spec = content.conversation or {}
    entries = {key: spec.get(key) for key in ("bot_question", "cost_question", "female_counsellor", "feelings",
                                               "phone", "abroad")}
    entries.update({f"crisis.{k}": v for k, v in (spec.get("crisis") or {}).items()})
    entries.update({f"questions.{k}": v for k, v in (spec.get("questions") or {}).items()})
    for key, entry in entries.items():
        where = f"conversation.yml {key}"
        if not isinstance(entry, dict):
            report.errors.append(f"{where}: missing")
            continue
        if entry.get("answer"):
            _texts_missing(entry["answer"], languages, f"{where}.answer", report)
            for lang, text in entry["answer"].items():
                _facts_used(str(text), content, f"{where}.answer.{lang}", report)
        if entry.get("needs_review"):
            report.placeholders.append(f"{where}: needs review by the SafeSafar team's trained staff")
    for key in ("yes", "no"):
        _texts_missing((spec.get("typed_answers") or {}).get(key) or {}, languages, f"conversation.yml typed_answers.{key}",
                       report)
    try:
        Listening(spec)
    except Exception as exc:  # noqa: BLE001 - any broken phrase is an editor's error to show
        report.errors.append(f"conversation.yml: {exc!r}")


def _check_offer(spec: dict, content: Content, languages: list[str], report: Report) -> None:
    ids = set()
    for q in spec["questions"]:
        where = f"offer_check.yml question {q.get('id')}"
        if q.get("id") in ids:
            report.errors.append(f"{where}: duplicate id")
        ids.add(q.get("id"))
        for kind in q.get("applies") or ("study", "job"):
            if kind not in ("study", "job"):
                report.errors.append(f"{where}: applies to unknown kind {kind!r}")
        for part in ("ask", "reason"):
            texts = q[part]
            variants = [texts[k] for k in ("study", "job") if k in texts] or [texts]
            for variant in variants:
                _texts_missing(variant, languages, f"{where} {part}", report)
                for lang, text in (variant.items() if isinstance(variant, dict) else []):
                    _facts_used(str(text), content, f"{where} {part}.{lang}", report)
        float(q.get("weight", 1))
        if str(q.get("flag", "yes")) not in ("yes", "no"):
            report.errors.append(f"{where}: flag must be yes or no (the answer that is the red flag)")
        for answer, labels in (q.get("answers") or {}).items():
            if answer not in ("yes", "no"):
                report.errors.append(f"{where}: answers has {answer!r}; only yes and no have their own buttons")
                continue
            for label in [labels[k] for k in ("study", "job") if k in labels] or [labels]:
                _texts_missing(label, languages, f"{where} answers.{answer}", report)
    for combination in spec.get("combinations") or []:
        where = f"offer_check.yml combination {combination.get('id')}"
        unknown = [qid for qid in combination.get("when") or [] if qid not in ids]
        if unknown or not combination.get("when"):
            report.errors.append(f"{where}: when must name questions (unknown: {unknown})")
        if combination.get("level", "high") not in ("medium", "high"):
            report.errors.append(f"{where}: level must be medium or high")
        reason = combination["reason"]
        for text in [reason[k] for k in ("study", "job") if k in reason] or [reason]:
            _texts_missing(text, languages, f"{where} reason", report)
    for level in ("low", "medium", "unclear", "high"):
        _texts_missing(spec["levels"][level], languages, f"offer_check.yml levels.{level}", report)
    for step in ("study", "job", "report"):
        _texts_missing(spec["next_steps"][step], languages, f"offer_check.yml next_steps.{step}", report)
        for lang, text in spec["next_steps"][step].items():
            _facts_used(str(text), content, f"offer_check.yml next_steps.{step}.{lang}", report)
    thresholds = spec["thresholds"]
    if not float(thresholds["medium"]) < float(thresholds["high"]):
        report.errors.append("offer_check.yml: thresholds.medium must be below thresholds.high")
    if not spec.get("sources"):
        report.errors.append("offer_check.yml: no sources")
