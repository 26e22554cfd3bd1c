"""The NLU contract: intent names, their escalation levels and the languages (nlu/contract/intents.yml,
a copy of shared/contracts/intents.yml kept equal by a test), and the finer intents the model also knows
(nlu/contract/finer.yml), each of which comes out under its contract intent."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .config import ROOT

CONTRACT_PATH = ROOT / "nlu" / "contract" / "intents.yml"
FINER_PATH = ROOT / "nlu" / "contract" / "finer.yml"
PRIORITIES = ("urgent", "high", "normal")  # most to least pressing; "none" means no escalation


@dataclass(frozen=True)
class Contract:
    languages: dict[str, str]
    escalation: dict[str, str]  # intent -> urgent | high | normal | none
    meaning: dict[str, str]
    finer: dict[str, str] = field(default_factory=dict)  # finer intent -> the contract intent it comes out as
    fallback: tuple[float, float] = (0.45, 0.08)  # the NLU's FallbackClassifier: threshold, ambiguity_threshold

    @property
    def intents(self) -> list[str]:
        return list(self.escalation)

    def name(self, intent: str | None) -> str | None:
        """The contract name of a model intent (a finer intent's contract intent; others unchanged)."""
        return self.finer.get(intent, intent) if intent else intent

    def priority(self, intent: str | None) -> str | None:
        level = self.escalation.get(self.name(intent) or "", "none")
        return None if level == "none" else level


def load_contract(path: Path = CONTRACT_PATH, finer_path: Path | None = None) -> Contract:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    intents = data["intents"]
    finer_path = finer_path or path.with_name(FINER_PATH.name)
    finer_data = (yaml.safe_load(finer_path.read_text(encoding="utf-8")) or {}) if finer_path.is_file() else {}
    finer = {name: spec["maps_to"] for name, spec in (finer_data.get("finer") or {}).items()}
    wrong = {name: parent for name, parent in finer.items() if parent not in intents or name in intents}
    if wrong:
        raise ValueError(f"{finer_path.name}: a finer intent must map to a contract intent and not be one: {wrong}")
    return Contract(
        languages=dict(data["languages"]),
        escalation={name: spec["escalate"] for name, spec in intents.items()},
        meaning={name: spec.get("means", "") for name, spec in intents.items()},
        finer=finer,
        fallback=_fallback_thresholds(path.parent.parent / "config.yml"),
    )


def _fallback_thresholds(config: Path) -> tuple[float, float]:
    """The FallbackClassifier's thresholds in nlu/config.yml: folding finer intents into their contract intent
    decides again whether the message is unsure, with the same thresholds."""
    default = Contract.__dataclass_fields__["fallback"].default
    if not config.is_file():
        return default
    pipeline = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("pipeline") or []
    for step in pipeline:
        if isinstance(step, dict) and step.get("name") == "FallbackClassifier":
            return float(step.get("threshold", default[0])), float(step.get("ambiguity_threshold", default[1]))
    return default


@lru_cache(maxsize=1)
def contract() -> Contract:
    return load_contract()
