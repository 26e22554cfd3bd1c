"""Wiring: builds the services from settings (the one place that picks adapters)."""
from __future__ import annotations

from .config import Settings
from .contract import contract
from .nlu.client import RasaNLU
from .nlu.train import load_language_identifier
from .safety import DangerNet
from .understanding import Understander


def build_understander(settings: Settings, nlu_url: str,
                       tolerate_nlu_outage: bool = False) -> tuple[Understander, RasaNLU]:
    nlu = RasaNLU(nlu_url, timeout=settings.nlu_timeout, in_flight=settings.nlu_concurrency or settings.nlu_workers,
                  max_connections=max(settings.nlu_concurrency, settings.nlu_workers, 1) * 2,
                  max_batch=settings.nlu_max_batch)
    understander = Understander(nlu, load_language_identifier(settings), DangerNet.from_file(settings.danger_lexicon),
                                contract(), tolerate_nlu_outage=tolerate_nlu_outage)
    return understander, nlu


def build_service(settings: Settings, nlu_url: str, durable_replies: bool = True):
    """The conversation service with the real NLU, the content store and the database (migrated to the
    newest schema first). Returns (service, async close)."""
    from .dialogue.content import ContentStore
    from .dialogue.engine import Dialogue
    from .hotline.service import ConversationService
    from .i18n import default_i18n
    from .storage.db import make_engine
    from .storage.hotline_store import HotlineStore
    from .storage.migrate import ensure_sqlite_dir, upgrade_if_needed
    from .storage.register_store import RegisterSource

    ensure_sqlite_dir(settings.database_url)
    engine = make_engine(settings.database_url)
    upgrade_if_needed(settings.database_url, engine)
    understander, client = build_understander(settings, nlu_url, tolerate_nlu_outage=True)
    i18n = default_i18n()
    register = RegisterSource(engine)
    register.refresh()  # loaded before the first message (later imports are picked up in the background)
    dialogue = Dialogue(understander, ContentStore(settings.content_dir), i18n, register=register)
    store = HotlineStore(engine, staff_chat_id=settings.staff_chat_id, console_url=settings.console_url)
    service = ConversationService(dialogue, store, i18n, durable_replies=durable_replies)

    async def close() -> None:
        await client.aclose()
        engine.dispose()

    return service, close
