"""Understanding one message: language, intent, entities and escalation, independent of any channel.

Pure domain code: the NLU is a port (anything with `async parse(text) -> NLUResult`), so tests run it
with a fake in milliseconds and the app with the Rasa adapter (bot/nlu/client.py).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from .contract import Contract
from .language import LanguageIdentifier
from .nlu.entities import dedupe, normalize_amount
from .safety import DangerNet, SafetyVerdict
from .text import clean, letters

EMERGENCY = "emergency"
log = logging.getLogger("safesafar.understanding")


@dataclass(frozen=True)
class NLUResult:
    intent: str | None
    confidence: float
    ranking: list[tuple[str, float]] = field(default_factory=list)
    entities: list[dict] = field(default_factory=list)
    fallback: bool = False

    def probability(self, intent: str) -> float:
        return next((c for name, c in self.ranking if name == intent), 0.0)


class NLUPort(Protocol):
    async def parse(self, text: str) -> NLUResult: ...


@dataclass(frozen=True)
class Understanding:
    text: str
    language: str
    intent: str | None
    confidence: float
    entities: list[dict]
    escalate: bool
    priority: str | None
    ranking: list[tuple[str, float]] = field(default_factory=list)
    fallback: bool = False
    safety: SafetyVerdict | None = None
    error: str | None = None
    detail: str | None = None  # the finer intent (nlu/contract/finer.yml) behind `intent`, when the model chose one

    def as_contract_dict(self) -> dict:
        """The classification contract's JSON object (plus `fallback`, `safety_net` and `error` when set)."""
        out = {"text": self.text, "language": self.language, "intent": self.intent,
               "confidence": round(float(self.confidence), 4), "entities": self.entities,
               "escalate": self.escalate, "priority": self.priority}
        if self.fallback:
            out["fallback"] = True
        if self.safety and self.safety.urgent and self.safety.source != "classifier":
            out["safety_net"] = {"source": self.safety.source, "matched": list(self.safety.matched)}
        elif self.safety and self.safety.ask:  # ambiguous: the user is asked whether someone is in danger now
            out["safety_net"] = {"source": "ask", "matched": list(self.safety.matched)}
        if self.error:
            out["error"] = self.error
        return out


def fold_finer(result: NLUResult, contract: Contract) -> tuple[NLUResult, str | None]:
    """The model's ranking in contract names: each finer intent's confidence is added to its contract intent's,
    and the message is unsure (fallback) by the NLU's own thresholds applied to the folded ranking. Also
    returns the finer intent behind the top contract intent: its most confident finer intent, if that beat the
    contract intent itself."""
    if not contract.finer or not any(name in contract.finer for name, _ in result.ranking):
        return result, None
    summed: dict[str, float] = {}
    for name, conf in result.ranking:
        key = contract.name(name)
        summed[key] = summed.get(key, 0.0) + conf
    ranking = sorted(summed.items(), key=lambda item: -item[1])
    top, confidence = ranking[0]
    own = next((c for n, c in result.ranking if n == top), 0.0)
    detail = next((n for n, c in result.ranking if contract.finer.get(n) == top and c > own), None)
    fallback = result.fallback
    if not (result.fallback and result.intent is None):  # no ranking at all stays unsure
        threshold, ambiguity = contract.fallback
        second = ranking[1][1] if len(ranking) > 1 else 0.0
        fallback = confidence < threshold or confidence - second < ambiguity
    return NLUResult(top, confidence, ranking, result.entities, fallback), detail


class Understander:
    def __init__(self, nlu: NLUPort, languages: LanguageIdentifier, danger: DangerNet, contract: Contract,
                 tolerate_nlu_outage: bool = False):
        """tolerate_nlu_outage: when the NLU server fails, answer as unsure (fallback) instead of raising,
        and let the danger phrases alone decide urgency (strong and ambiguous ones; supporting ones ask
        whether someone is in danger): a person in danger must reach the hotline even while the NLU is down. The conversation channels use it; `classify` does not."""
        self.nlu, self.languages, self.danger, self.contract = nlu, languages, danger, contract
        self.tolerate_nlu_outage = tolerate_nlu_outage

    async def understand(self, text: str, default_language: str = "en") -> Understanding:
        cleaned = clean(text)
        language = self.languages.identify(cleaned.text, default=default_language)
        if not cleaned.text:
            return Understanding(text, language, None, 0.0, [], False, None, error="empty message")
        nlu_down = False
        try:
            result = await self.nlu.parse(cleaned.text)
        except Exception as exc:
            if not self.tolerate_nlu_outage:
                raise
            log.warning("NLU unavailable (%s): the danger phrases alone decide urgency", type(exc).__name__)
            result, nlu_down = NLUResult(None, 0.0, [], [], fallback=True), True
        if letters(cleaned.text) == 0 and not result.entities:
            # emoji, digits or punctuation only: whatever the classifier guesses is not to be trusted
            capped = [(name, min(conf, 0.3)) for name, conf in result.ranking]
            result = NLUResult(result.intent, min(result.confidence, 0.3), capped, [], True)
        # the danger net sees the model's own ranking: folding finer intents into their contract intent must
        # never push `emergency` from the first place (its "top" rules)
        verdict = self.danger.assess(cleaned.text, result, classifier_down=nlu_down)
        result, detail = fold_finer(result, self.contract)
        intent, confidence = result.intent, result.confidence
        fallback = result.fallback
        if verdict.urgent and intent != EMERGENCY:
            intent, confidence = EMERGENCY, result.probability(EMERGENCY)
        elif not verdict.urgent and intent == EMERGENCY:
            # an unsure "emergency" guess with no danger words: the next guess, marked unsure
            intent, confidence = next(((n, c) for n, c in result.ranking if n != EMERGENCY), (None, 0.0))
            fallback = True
        priority = "urgent" if verdict.urgent else self.contract.priority(intent)
        entities = []
        for ent in dedupe(result.entities):
            start, end = cleaned.to_original(ent["start"], ent["end"])
            item = {"entity": ent["entity"], "value": ent["value"], "start": start, "end": end}
            if ent["entity"] == "amount":
                item.update(normalize_amount(str(ent["value"])))
            entities.append(item)
        fallback = fallback and not verdict.urgent
        if intent != result.intent:
            detail = None  # the safety net or the emergency rule chose another intent
        return Understanding(text, language, intent, confidence, entities, priority is not None, priority,
                             result.ranking, fallback, verdict, detail=detail)
