"""Wiring: builds the parts from settings, the one place that picks adapters. The database (an engine
migrated to the newest schema), the NLU and understanding, the conversation service with its store and
the staff alert's rendering, the Telegram front end with its outbox and the SQLite checkpointer, the
staff console. bot/telegram/run.py, bot/console.py, bot/web/server.py and the command lines call these."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config import Settings
from .contract import contract
from .nlu.client import RasaNLU
from .nlu.train import load_language_identifier
from .safety import DangerNet
from .understanding import Understander


def build_database(settings: Settings):
    """The engine for settings.database_url, the schema migrated to the newest revision first (a
    SQLite file's directory is created)."""
    from .storage.db import make_engine
    from .storage.migrate import ensure_sqlite_dir, upgrade_if_needed

    ensure_sqlite_dir(settings.database_url)
    engine = make_engine(settings.database_url)
    upgrade_if_needed(settings.database_url, engine)
    return engine


def build_understander(settings: Settings, nlu_url: str,
                       tolerate_nlu_outage: bool = False) -> tuple[Understander, RasaNLU]:
    nlu = RasaNLU(nlu_url, timeout=settings.nlu_timeout, in_flight=settings.nlu_concurrency or settings.nlu_workers,
                  max_connections=max(settings.nlu_concurrency, settings.nlu_workers, 1) * 2,
                  max_batch=settings.nlu_max_batch)
    understander = Understander(nlu, load_language_identifier(settings), DangerNet.from_file(settings.danger_lexicon),
                                contract(), tolerate_nlu_outage=tolerate_nlu_outage)
    return understander, nlu


def case_text(settings: Settings):
    """How the case rules' messages look: Telegram HTML (staff alerts link to the console)."""
    from .telegram.case_text import TelegramCaseText

    return TelegramCaseText(settings.console_url)


def build_service(settings: Settings, nlu_url: str, durable_replies: bool = True):
    """The conversation service with the real NLU, the content store and the database (migrated to the
    newest schema first). Returns (service, async close)."""
    from .dialogue.content import ContentStore
    from .dialogue.engine import Dialogue
    from .hotline.service import ConversationService
    from .i18n import default_i18n
    from .storage.hotline_store import HotlineStore
    from .storage.register_store import RegisterSource

    engine = build_database(settings)
    understander, client = build_understander(settings, nlu_url, tolerate_nlu_outage=True)
    i18n = default_i18n()
    register = RegisterSource(engine)
    register.refresh()  # loaded before the first message (later imports are picked up in the background)
    dialogue = Dialogue(understander, ContentStore(settings.content_dir), i18n, register=register)
    store = HotlineStore(engine, staff_chat_id=settings.staff_chat_id, console_url=settings.console_url)
    service = ConversationService(dialogue, store, i18n, durable_replies=durable_replies,
                                  case_text=case_text(settings))

    async def close() -> None:
        await client.aclose()
        engine.dispose()

    return service, close


@dataclass
class TelegramBot:
    front: Any  # telegram.app.TelegramFrontEnd (its outbox and dispatcher)
    app: Any  # the python-telegram-bot Application
    checkpointer: Any  # storage.db.WalCheckpointer, started


def build_telegram(settings: Settings, service) -> TelegramBot:
    """The Telegram front end on `service`: this worker's outbox (the front end's dispatcher delivers
    it), the per-user rate limit, python-telegram-bot's Application (its HTTP transports, httpx, and the
    durable update queue are built by TelegramFrontEnd.build), and the SQLite WAL checkpointer (started;
    stop it after the bot)."""
    from .i18n import default_i18n
    from .storage.db import WalCheckpointer
    from .storage.outbox import Outbox
    from .telegram.app import TelegramFrontEnd, UserRateLimit

    checkpointer = WalCheckpointer(service.store.engine).start()
    front = TelegramFrontEnd(service, default_i18n(), staff_chat_id=settings.staff_chat_id,
                             rate_limit=UserRateLimit(settings.user_rate_per_minute, settings.user_burst),
                             outbox=Outbox(service.store.engine))
    app = front.build(settings.telegram_token, base_url=settings.telegram_api_base_url,
                      overall_rate=settings.telegram_max_rate)
    return TelegramBot(front, app, checkpointer)


def build_console(settings: Settings, **options):
    """The staff console (a Starlette app) on the migrated database; options: web.app.create_app's."""
    from .web.app import create_app

    return create_app(settings, engine=build_database(settings), case_text=case_text(settings), **options)
