"""The offer check: a state machine over the questions in content/offer_check.yml.

State (a plain dict, stored with the conversation): {"kind": "study"|"job"|None, "answers": {qid: "yes"|
"no"|"unsure"}, "prefilled": [qid, ...]}. `next_question` says what to ask; `score` turns answers into a
risk level with a breakdown an editor can read.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..phrases import PhraseSet

ANSWERS = ("yes", "no", "unsure")
KINDS = ("study", "job")


@dataclass(frozen=True)
class Question:
    id: str
    applies: tuple[str, ...]
    weight: float
    critical: bool
    ask: dict  # {lang: text} or {"study": {lang: text}, "job": {...}}
    reason: dict
    prefill: PhraseSet = field(default_factory=PhraseSet)

    def text(self, part: dict, kind: str) -> dict[str, str]:
        if kind in part and isinstance(part[kind], dict):
            return part[kind]
        if kind in part:  # a plain string variant
            return {"en": str(part[kind])}
        return {k: v for k, v in part.items() if k not in KINDS}


@dataclass(frozen=True)
class Scored:
    level: str  # low | medium | high
    total: float
    reasons: list[Question]
    unsure: list[Question]
    breakdown: list[str]  # "upfront_money: yes -> +3", for editors


class OfferCheck:
    def __init__(self, spec: dict):
        self.spec = spec
        self.unsure_factor = float(spec.get("unsure_factor", 0.5))
        self.thresholds = {"medium": float(spec["thresholds"]["medium"]), "high": float(spec["thresholds"]["high"])}
        self.questions = [
            Question(id=q["id"], applies=tuple(q.get("applies") or KINDS), weight=float(q.get("weight", 1)),
                     critical=bool(q.get("critical", False)), ask=q["ask"], reason=q["reason"],
                     prefill=PhraseSet.from_mapping(q.get("prefill")))
            for q in spec["questions"]
        ]
        self.by_id = {q.id: q for q in self.questions}
        self.unsure = PhraseSet.from_mapping(spec.get("unsure_phrases"))  # typed "not sure"

    @staticmethod
    def start(kind: str | None = None) -> dict:
        return {"kind": kind if kind in KINDS else None, "answers": {}, "prefilled": []}

    def applicable(self, kind: str) -> list[Question]:
        return [q for q in self.questions if kind in q.applies]

    def prefill(self, state: dict, text: str) -> list[str]:
        """Mark as "yes" the red flags the user's own description already shows. Returns their ids."""
        found = []
        kinds = [state["kind"]] if state.get("kind") else list(KINDS)
        for q in self.questions:
            if q.id in state["answers"] or not any(k in q.applies for k in kinds):
                continue
            if q.prefill.find(text):
                state["answers"][q.id] = "yes"
                state["prefilled"].append(q.id)
                found.append(q.id)
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
        total = 0.0
        reasons, unsure, breakdown = [], [], []
        critical = False
        for q in self.applicable(state["kind"]):
            value = state["answers"].get(q.id)
            if value == "yes":
                total += q.weight
                reasons.append(q)
                critical = critical or q.critical
                breakdown.append(f"{q.id}: yes -> +{q.weight:g}" + (" (critical)" if q.critical else ""))
            elif value == "unsure":
                points = q.weight * self.unsure_factor
                total += points
                unsure.append(q)
                breakdown.append(f"{q.id}: not sure -> +{points:g}")
            elif value == "no":
                breakdown.append(f"{q.id}: no -> +0")
        if critical or total >= self.thresholds["high"]:
            level = "high"
        elif total >= self.thresholds["medium"]:
            level = "medium"
        else:
            level = "low"
        rule = ("a critical red flag" if critical else
                f"total {total:g} against medium >= {self.thresholds['medium']:g}, high >= {self.thresholds['high']:g}")
        breakdown.append(f"=> {level} ({rule})")
        return Scored(level, total, reasons, unsure, breakdown)
