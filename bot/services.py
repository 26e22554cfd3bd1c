"""Wiring: builds the services from settings (the one place that picks adapters)."""
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


def build_dialogue(settings: Settings, nlu_url: str):
    """The dialogue with the real NLU, the content store and the SQL state repository.
    Returns (dialogue, async close)."""
    from .dialogue.content import ContentStore
    from .dialogue.engine import Dialogue
    from .i18n import default_i18n
    from .storage.db import create_schema, make_engine
    from .storage.state_repo import SqlStateRepository

    if settings.database_url.startswith("sqlite:///"):
        from pathlib import Path

        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    create_schema(engine)
    understander, client = build_understander(settings, nlu_url)
    dialogue = Dialogue(understander, ContentStore(settings.content_dir), SqlStateRepository(engine), default_i18n())

    async def close() -> None:
        await client.aclose()
        engine.dispose()

    return dialogue, close
