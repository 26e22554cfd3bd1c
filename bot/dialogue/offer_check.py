"""The offer check: a state machine over the questions in content/offer_check.yml.

State (a plain dict, stored with the conversation): {"kind": "study"|"job"|None, "answers": {qid: "yes"|
"no"|"unsure"}, "prefilled": [qid, ...]}. `next_question` says what to ask; `score` turns answers into a
risk level with a breakdown an editor can read.

Every question is asked positively; its `flag` says which answer is the red flag ("yes" for "has the agent
asked for money first?", "no" for "do you have a written contract?"). The pre-fill reads the user's own
description of the offer and answers a question with its red flag when a phrase of it occurs, unless the
phrase is negated in its clause: "it is not a dunki", "visit visa nahi hai", "کشتی سے نہیں جانا".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..phrases import PhraseSet, fold, tokenize
from ..text import clean

ANSWERS = ("yes", "no", "unsure")
KINDS = ("study", "job")
LEVELS = ("low", "medium", "unclear", "high")

# Negation, in English, Roman Urdu and Urdu. A negation word before a phrase (up to PRE_WINDOW words:
# "it is not a dunki", "na dunki na kashti") or after it (up to POST_WINDOW words: "visit visa nahi hai",
# "boat se nahi jana", "کشتی سے نہیں جانا") negates it, within one clause. A phrase that holds the negation
# itself ("no receipt", "licence nahi") is not negated by it. Missing a red flag here only means the
# question is asked; so a doubtful negation counts as a negation, and a clause asked as a question ("is it
# a dunki?") answers nothing.
PRE_NEGATION = frozenset({"not", "no", "never", "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "wont", "cant",
                          "cannot", "neither", "nor", "na", "mat", "نہ", "مت"})
POST_NEGATION = frozenset({"nahi", "nahin", "nai", "ni", "nhi", "nahee", "nahien", "na", "mat", "نہیں", "نہ",
                           "نہی", "مت"})
PRE_WINDOW, POST_WINDOW = 5, 4
# clauses: punctuation and "but" words end the reach of a negation
_CLAUSE = re.compile(r"[,.;:!?()\[\]،۔؟\n]+|\b(?:but|however|lekin|lakin|magar|balke|balki)\b|لیکن|مگر|بلکہ",
                     re.IGNORECASE)


def clauses(text: str, questions: bool = True) -> list[list[str]]:
    """The words of each clause of the text, cleaned as the phrases are. `questions=False` leaves out the
    clauses that end with a question mark: "is it a dunki?" asks, it does not tell."""
    cleaned = clean(text).text
    found, start = [], 0
    for match in [*_CLAUSE.finditer(cleaned), None]:
        end = match.start() if match else len(cleaned)
        asked = bool(match) and ("?" in match.group(0) or "؟" in match.group(0))
        if (words := tokenize(cleaned[start:end])) and (questions or not asked):
            found.append(words)
        start = match.end() if match else end
    return found


def negated(tokens: list[str], start: int, end: int, used: frozenset | set = frozenset()) -> bool:
    """Whether the phrase at tokens[start:end] is negated in its clause. Negation words at `used`
    positions belong to another phrase ("not registered" in "not registered and wants cash")."""
    before = [t for i, t in enumerate(tokens[max(0, start - PRE_WINDOW):start], max(0, start - PRE_WINDOW)) if i not in used]
    after = [t for i, t in enumerate(tokens[end:end + POST_WINDOW], end) if i not in used]
    return any(t in PRE_NEGATION for t in before) or any(t in POST_NEGATION for t in after)


def affirmed(sets: dict[str, PhraseSet], text: str) -> list[str]:
    """The keys of the phrase sets with a phrase that occurs in the text, not negated where it occurs."""
    found: list[str] = []
    for tokens in clauses(text, questions=False):
        folded = [fold(t) for t in tokens]
        spans = {}
        for key, phrases in sets.items():
            matched = set(phrases.find_tokens(tokens, folded)) if key not in found else ()
            if matched:  # the index finds the phrases that occur; only they are located
                spans[key] = [span for phrase in phrases.phrases if phrase.text in matched
                              for span in phrase.spans(tokens, folded)]
        covered = {i for key_spans in spans.values() for a, b in key_spans for i in range(a, b)}
        for key, key_spans in spans.items():
            if any(not negated(tokens, a, b, covered - set(range(a, b))) for a, b in key_spans):
                found.append(key)
    return found


def variant(part: dict, kind: str) -> dict[str, str]:
    """The texts by language of a part that may have a `study` and a `job` wording."""
    if kind in part and isinstance(part[kind], dict):
        return part[kind]
    if kind in part:  # a plain string variant
        return {"en": str(part[kind])}
    return {k: v for k, v in part.items() if k not in KINDS}


@dataclass(frozen=True)
class Question:
    id: str
    applies: tuple[str, ...]
    weight: float
    critical: bool
    ask: dict  # {lang: text} or {"study": {lang: text}, "job": {...}}
    reason: dict
    prefill: PhraseSet = field(default_factory=PhraseSet)
    flag: str = "yes"  # the answer that is the red flag
    labels: dict = field(default_factory=dict)  # {"yes": {lang: text}, "no": {...}}: what the buttons say

    def flagged(self, value: str | None) -> bool:
        return value == self.flag

    def text(self, part: dict, kind: str) -> dict[str, str]:
        return variant(part, kind)

    def label(self, answer: str, kind: str) -> dict[str, str]:
        """What the button of this answer says, by language ({} : the plain Yes / No)."""
        return variant(self.labels[answer], kind) if self.labels.get(answer) else {}


@dataclass(frozen=True)
class Combination:
    """Red flags that together make the result high (an unlicensed recruiter who wants cash)."""
    id: str
    when: tuple[str, ...]
    level: str
    reason: dict


@dataclass(frozen=True)
class Scored:
    level: str  # low | medium | unclear | high
    total: float  # points of the red flags answered
    reasons: list[Question]
    unsure: list[Question]
    breakdown: list[str]  # "upfront_money: yes -> +3", for editors
    combinations: list[Combination] = field(default_factory=list)
    doubt: float = 0.0  # points of the "not sure" answers


class OfferCheck:
    def __init__(self, spec: dict):
        self.spec = spec
        self.unsure_factor = float(spec.get("unsure_factor", 0.5))
        self.thresholds = {"medium": float(spec["thresholds"]["medium"]), "high": float(spec["thresholds"]["high"])}
        self.unsure_limit = int(spec.get("unsure_limit", 3))
        self.questions = [
            Question(id=q["id"], applies=tuple(q.get("applies") or KINDS), weight=float(q.get("weight", 1)),
                     critical=bool(q.get("critical", False)), ask=q["ask"], reason=q["reason"],
                     prefill=PhraseSet.from_mapping(q.get("prefill")), flag=str(q.get("flag", "yes")),
                     labels=dict(q.get("answers") or {}))
            for q in spec["questions"]
        ]
        self.by_id = {q.id: q for q in self.questions}
        self.combinations = [Combination(c["id"], tuple(c["when"]), str(c.get("level", "high")), c["reason"])
                             for c in spec.get("combinations") or []]
        self.unsure = PhraseSet.from_mapping(spec.get("unsure_phrases"))  # typed "not sure"

    @staticmethod
    def start(kind: str | None = None) -> dict:
        return {"kind": kind if kind in KINDS else None, "answers": {}, "prefilled": []}

    def applicable(self, kind: str) -> list[Question]:
        return [q for q in self.questions if kind in q.applies]

    def count(self, kind: str) -> int:
        """How many questions a check of this kind asks (the intros say "about N questions")."""
        return len(self.applicable(kind))

    def prefill(self, state: dict, text: str) -> list[str]:
        """Answer with their red flag the questions the user's own description already answers (a negated
        phrase does not count). Returns their ids."""
        kinds = [state["kind"]] if state.get("kind") else list(KINDS)
        open_questions = {q.id: q.prefill for q in self.questions
                          if q.id not in state["answers"] and any(k in q.applies for k in kinds) and q.prefill.phrases}
        found = [q.id for q in self.questions if q.id in affirmed(open_questions, text)]
        for qid in found:
            state["answers"][qid] = self.by_id[qid].flag
            state["prefilled"].append(qid)
        return found

    def next_question(self, state: dict) -> Question | None:
        if not state.get("kind"):
            return None
        return next((q for q in self.applicable(state["kind"]) if q.id not in state["answers"]), None)

    def answer(self, state: dict, qid: str, value: str) -> None:
        if value not in ANSWERS:
            raise ValueError(f"answer must be one of {ANSWERS}")
        if qid not in self.by_id:
            raise KeyError(qid)
        state["answers"][qid] = value

    def progress(self, state: dict) -> tuple[int, int]:
        """(questions answered, questions in all) for the current kind."""
        questions = self.applicable(state["kind"]) if state.get("kind") else []
        return sum(q.id in state["answers"] for q in questions), len(questions)

    def done(self, state: dict) -> bool:
        return bool(state.get("kind")) and self.next_question(state) is None

    def score(self, state: dict) -> Scored:
        """high: a critical red flag, a combination, or red flags worth thresholds.high; medium: red flags
        worth thresholds.medium; unclear: `unsure_limit` or more "not sure" answers and too few red flags
        to say more (find these facts out before paying anything); else medium when the red flags and half
        the weight of the unknowns reach thresholds.medium; else low. Unknowns alone never make it high."""
        total = doubt = 0.0
        reasons, unsure, breakdown = [], [], []
        critical = False
        answers = state["answers"]
        for q in self.applicable(state["kind"]):
            value = answers.get(q.id)
            if value is None:
                continue
            if q.flagged(value):
                total += q.weight
                reasons.append(q)
                is_critical = q.critical or q.id in state.get("critical", ())  # e.g. a licence not on the register
                critical = critical or is_critical
                breakdown.append(f"{q.id}: {value} -> +{q.weight:g}" + (" (critical)" if is_critical else ""))
            elif value == "unsure":
                points = q.weight * self.unsure_factor
                doubt += points
                unsure.append(q)
                breakdown.append(f"{q.id}: not sure -> +{points:g} (doubt)")
            else:
                breakdown.append(f"{q.id}: {value} -> +0")
        flagged = {q.id for q in reasons}
        combinations = [c for c in self.combinations if all(qid in flagged for qid in c.when)]
        medium, high = self.thresholds["medium"], self.thresholds["high"]
        if critical:
            level, rule = "high", "a critical red flag"
        elif any(c.level == "high" for c in combinations):
            level, rule = "high", "red flags together: " + ", ".join(c.id for c in combinations if c.level == "high")
        elif total >= high:
            level, rule = "high", f"red flags {total:g} >= {high:g}"
        elif total >= medium or combinations:
            level, rule = "medium", (f"red flags {total:g} >= {medium:g}" if total >= medium
                                     else "red flags together: " + ", ".join(c.id for c in combinations))
        elif len(unsure) >= self.unsure_limit:
            level, rule = "unclear", f"{len(unsure)} answers not sure (>= {self.unsure_limit})"
        elif total + doubt >= medium:
            level, rule = "medium", f"red flags {total:g} + doubt {doubt:g} >= {medium:g}"
        else:
            level, rule = "low", f"red flags {total:g} + doubt {doubt:g} < {medium:g}"
        breakdown.append(f"=> {level} ({rule})")
        return Scored(level, total, reasons, unsure, breakdown, combinations, doubt)


def check_of(content) -> OfferCheck:
    """The offer check of a content snapshot (dialogue/content.Content), built once: its phrases are compiled."""
    check = content.derived.get("offer_check")
    if check is None:
        check = content.derived["offer_check"] = OfferCheck(content.offer_check)
    return check
