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
from .nlu.train import ActiveLanguageIdentifier
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


def build_danger_net(settings: Settings) -> DangerNet:
    """The danger safety net: the editors' lexicon and, unless URGENCY_MODEL=off, the urgency model (trained
    from the training data on first use, then loaded from its cache)."""
    urgency = None
    if settings.urgency_model:
        from .urgency import load_or_train

        urgency = load_or_train(settings.nlu_data_dir, list(settings.urgency_examples), settings.urgency_cache_dir)
    return DangerNet.from_file(settings.danger_lexicon, urgency)


def build_understander(settings: Settings, nlu_url: str, tolerate_nlu_outage: bool = False,
                       languages=None) -> tuple[Understander, RasaNLU]:
    """languages: the language identifier (default: the served model's, followed across promotions)."""
    nlu = RasaNLU(nlu_url, timeout=settings.nlu_timeout, in_flight=settings.nlu_concurrency or settings.nlu_workers,
                  max_connections=max(settings.nlu_concurrency, settings.nlu_workers, 1) * 2,
                  max_batch=settings.nlu_max_batch)
    understander = Understander(nlu, languages or ActiveLanguageIdentifier(settings), build_danger_net(settings),
                                contract(), tolerate_nlu_outage=tolerate_nlu_outage)
    return understander, nlu


def case_text(settings: Settings):
    """How the case rules' messages look: Telegram HTML (staff alerts link to the console)."""
    from .telegram.case_text import TelegramCaseText

    return TelegramCaseText(settings.console_url)


def seed_content(settings: Settings, engine) -> int:
    """The workbench's published state from content/ (and nlu/entities/countries.txt): items the database
    does not have yet are added as published; items it has are never changed (idempotent). Returns how
    many were added. `safesafar db upgrade` (so `make setup`) runs it; so do the builders that read content
    from the database."""
    from .dialogue.content import read_documents

    from sqlalchemy.exc import IntegrityError

    countries = settings.nlu_project / "entities" / "countries.txt"
    documents = read_documents(settings.content_dir)
    countries_text = countries.read_text(encoding="utf-8") if countries.is_file() else None
    workbench = build_workbench(settings, engine)
    for _attempt in range(3):
        try:
            return workbench.seed(documents, countries_text)
        except IntegrityError:  # another worker seeded the same items at the same moment: look again
            continue
    return workbench.seed(documents, countries_text)


def build_workbench(settings: Settings, engine, clock=None):
    """The editors' workbench (bot/editorial/) on the database: what the console's pages and the
    `safesafar content` commands call."""
    from .editorial.checks import Checker
    from .editorial.model import Item, Revision
    from .editorial.workbench import Workbench, utcnow
    from .storage.editorial import SqlEditorialRepository

    return Workbench(SqlEditorialRepository(engine, Item, Revision), Checker(contract(), settings.root / "locales"),
                     clock or utcnow)


def build_content_store(settings: Settings, engine, source: str | None = None, understander=None):
    """The content the dialogue reads: from the database (the published revisions, rebuilt within ~1 s of
    a publish; the danger lexicon of `understander` too), or from content/ (ContentStore). source: "database",
    "files" or "auto"/None (settings.content_source; auto = database)."""
    source = source or settings.content_source
    if source == "files":
        from .dialogue.content import ContentStore

        return ContentStore(settings.content_dir)
    if source not in ("database", "auto"):
        raise ValueError(f"CONTENT_SOURCE must be database, files or auto (not {source!r})")
    from .editorial.live import LiveContent
    from .safety import DangerLexicon
    from .storage.editorial import ContentSource

    seed_content(settings, engine)
    callbacks = []
    if understander is not None:
        def danger(content) -> None:  # the safety net follows the published danger lexicon
            text = content.documents.get("safety/danger_lexicon.yml")
            if text is not None:
                understander.danger.lexicon = DangerLexicon.from_yaml(text)
        callbacks.append(danger)
    return LiveContent(ContentSource(engine), interval=1.0, on_change=callbacks)


def build_service(settings: Settings, nlu_url: str, durable_replies: bool = True, content_source: str | None = None):
    """The conversation service with the real NLU, the content store and the database (migrated to the
    newest schema first). Returns (service, async close)."""
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
    content = build_content_store(settings, engine, content_source, understander)
    dialogue = Dialogue(understander, content, i18n, register=register)
    store = HotlineStore(engine, staff_chat_id=settings.staff_chat_id, console_url=settings.console_url)
    from .learning.training import TrainingIndex

    service = ConversationService(dialogue, store, i18n, durable_replies=durable_replies,
                                  case_text=case_text(settings), training=TrainingIndex(settings.nlu_data_dir))

    async def close() -> None:
        await client.aclose()
        if hasattr(content, "close"):
            content.close()
        engine.dispose()

    return service, close


@dataclass
class TelegramBot:
    front: Any  # telegram.app.TelegramFrontEnd (its outbox and dispatcher)
    app: Any  # the python-telegram-bot Application
    checkpointer: Any  # storage.db.WalCheckpointer, started


def build_telegram(settings: Settings, service, timeout: float = 15.0) -> TelegramBot:
    """The Telegram front end on `service`, and its parts: python-telegram-bot's Bot (two HTTPXRequest
    transports, one for getUpdates that keeps the raw answer; AIORateLimiter at settings.telegram_max_rate
    messages/s to all chats: Telegram allows about 30, a local Bot API server in a benchmark takes more),
    the sender on it, this worker's outbox and the dispatcher that delivers it, the per-user rate limit,
    the Application with the durable update queue and the front end's handlers, and the SQLite WAL
    checkpointer (started; stop it after the bot)."""
    from telegram.ext import AIORateLimiter, Application, ExtBot
    from telegram.request import HTTPXRequest

    from .hotline.dispatch import Dispatcher
    from .storage.db import WalCheckpointer
    from .storage.outbox import Outbox
    from .telegram.app import DurableQueue, TelegramFrontEnd, UserRateLimit
    from .telegram.polling import PollingRequest
    from .telegram.sender import TelegramSender

    engine = service.store.engine
    checkpointer = WalCheckpointer(engine).start()
    timeouts = dict(read_timeout=timeout, write_timeout=timeout, connect_timeout=timeout, pool_timeout=timeout)
    # 8 connections carry Telegram's 30 messages/s at ~100 ms per request with room to spare
    requests = HTTPXRequest(connection_pool_size=8, **timeouts)
    polling = PollingRequest(connection_pool_size=1, **timeouts)
    urls = {}
    if base := settings.telegram_api_base_url.rstrip("/"):
        urls = {"base_url": base if base.endswith("/bot") else base + "/bot",
                "base_file_url": base.removesuffix("/bot") + "/file/bot"}
    bot = ExtBot(settings.telegram_token, request=requests, get_updates_request=polling,
                 rate_limiter=AIORateLimiter(overall_max_rate=settings.telegram_max_rate, overall_time_period=1,
                                             max_retries=5), **urls)
    sender = TelegramSender(bot)
    outbox = Outbox(engine)
    service.claim_as, service.lease_seconds = outbox.worker, outbox.lease.total_seconds()
    front = TelegramFrontEnd(service, service.i18n, sender=sender, outbox=outbox,
                             dispatcher=Dispatcher(outbox, sender.deliver),
                             rate_limit=UserRateLimit(settings.user_rate_per_minute, settings.user_burst),
                             staff_chat_id=settings.staff_chat_id)
    app = (Application.builder().bot(bot).update_queue(DurableQueue(service.store, polling.take_answer))
           .concurrent_updates(64).post_init(front.on_startup).post_shutdown(front.on_shutdown).build())
    front.install(app)
    return TelegramBot(front, app, checkpointer)


def build_console(settings: Settings, **options):
    """The staff console (a Starlette app) on the migrated database; options: web.app.create_app's."""
    from .web.app import create_app

    engine = build_database(settings)
    seed_content(settings, engine)  # the workbench edits the published state: it exists from the start
    return create_app(settings, engine=engine, case_text=case_text(settings), **options)
