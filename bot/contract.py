"""The NLU contract: intent names, their escalation levels and the languages (nlu/contract/intents.yml,
a copy of shared/contracts/intents.yml kept equal by a test)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .config import ROOT

CONTRACT_PATH = ROOT / "nlu" / "contract" / "intents.yml"
PRIORITIES = ("urgent", "high", "normal")  # most to least pressing; "none" means no escalation


@dataclass(frozen=True)
class Contract:
    languages: dict[str, str]
    escalation: dict[str, str]  # intent -> urgent | high | normal | none
    meaning: dict[str, str]

    @property
    def intents(self) -> list[str]:
        return list(self.escalation)

    def priority(self, intent: str | None) -> str | None:
        level = self.escalation.get(intent or "", "none")
        return None if level == "none" else level


def load_contract(path: Path = CONTRACT_PATH) -> Contract:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    intents = data["intents"]
    return Contract(
        languages=dict(data["languages"]),
        escalation={name: spec["escalate"] for name, spec in intents.items()},
        meaning={name: spec.get("means", "") for name, spec in intents.items()},
    )


@lru_cache(maxsize=1)
def contract() -> Contract:
    return load_contract()
