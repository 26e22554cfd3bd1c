"""Wiring: builds the understanding service from settings (the one place that picks adapters)."""
from __future__ import annotations

from .config import Settings
from .contract import contract
from .nlu.client import RasaNLU
from .nlu.train import load_language_identifier
from .safety import DangerNet
from .understanding import Understander


def build_understander(settings: Settings, nlu_url: str) -> tuple[Understander, RasaNLU]:
    nlu = RasaNLU(nlu_url, timeout=settings.nlu_timeout, max_connections=max(settings.nlu_concurrency, 1) * 2)
    understander = Understander(nlu, load_language_identifier(settings), DangerNet.from_file(settings.danger_lexicon),
                                contract())
    return understander, nlu
