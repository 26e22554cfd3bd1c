"""An agent check joins the user's open case: the message carries the result, and the case page shows it
to staff. The register comes from the database (an import applied), through RegisterSource. SQLite and
PostgreSQL."""
from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import ROOT
from bot.contract import load_contract
from bot.dialogue.content import ContentStore
from bot.dialogue.engine import Dialogue
from bot.hotline.service import ConversationService
from bot.i18n import I18n
from bot.language import LanguageIdentifier
from bot.register.parse import parse_files
from bot.safety import DangerNet
from bot.storage.db import CaseRow, MessageRow, make_engine
from bot.storage.hotline_store import HotlineStore, Inbound
from bot.storage.register_store import RegisterSource, apply, stage
from bot.understanding import Understander
from tests.fakes import KeywordNLU
from tests.web_support import Harness

DATA = Path(__file__).parent / "data" / "register"


@pytest.fixture(scope="module")
def languages():
    return LanguageIdentifier.from_training_data(ROOT / "nlu" / "data")


def send(service, user, text, kind=None):
    kind = kind or ("command" if text.startswith("/") else "text")
    return asyncio.run(service.handle(Inbound("tg", str(user), str(user), kind, text)))


def test_an_agent_check_joins_the_open_case_and_staff_see_it(db_url, languages):
    engine = make_engine(db_url)
    parsed = parse_files([(p.name, p.read_bytes()) for p in sorted(DATA.glob("list-of-oeps-page*.html"))])
    apply(engine, stage(engine, parsed, date(2026, 11, 30), "test").import_id, "test")
    understander = Understander(KeywordNLU({"person": "ask_human"}), languages,
                                DangerNet.from_file(ROOT / "content" / "safety" / "danger_lexicon.yml"),
                                load_contract())
    i18n = I18n()
    dialogue = Dialogue(understander, ContentStore(ROOT / "content"), i18n,
                        register=RegisterSource(engine, interval=0, background=False))
    service = ConversationService(dialogue, HotlineStore(engine), i18n)

    send(service, 5, "lang:en", kind="button")
    send(service, 5, "/agent")
    before = send(service, 5, "0031/KHI")  # no case yet: the result stays in the chat
    assert "EXPIRED" in before.replies[0].text and before.case is None
    send(service, 5, "i want to talk to a person")
    send(service, 5, "/agent")
    handled = send(service, 5, "sample crescent star overseas")
    assert "Sample Crescent Star Overseas Employment Promoters" in handled.replies[0].text
    assert handled.case is not None and handled.case.joined
    with engine.connect() as conn:
        case_id = conn.execute(select(CaseRow.id)).scalar_one()
        checks = [m.meta["agent_check"] for m in conn.execute(select(MessageRow).where(MessageRow.case_id == case_id))
                  if (m.meta or {}).get("agent_check")]
    assert [(c["licence"], c["status"], c["register_date"]) for c in checks] == [("0023/LHR", "valid", "2026-11-30")]
    engine.dispose()

    console = Harness(db_url)
    try:
        page = console.as_staff("amina", "agent").get(f"/cases/{case_id}")
        assert page.status_code == 200
        assert 'id="agent-checks"' in page.text and "Sample Crescent Star Overseas Employment Promoters" in page.text
        assert "0023/LHR" in page.text and "2026-11-30" in page.text
    finally:
        console.close()
