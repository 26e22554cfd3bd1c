"""What reaches the learning inbox from conversations (issue 20), through the conversation service on
SQLite and PostgreSQL (fake NLU): a message that fell back, redacted (the user's channel names, the
staff's names); 👍 / 👎 under an answer, once per answer; a 👎 lands the question and offers a person.
Messages in the training data stay out."""
import asyncio
import shutil

import pytest
from sqlalchemy import insert, select

from bot.config import ROOT
from bot.contract import load_contract
from bot.dialogue.content import ContentStore
from bot.dialogue.engine import Dialogue
from bot.hotline.service import ConversationService
from bot.i18n import I18n
from bot.language import LanguageIdentifier
from bot.learning.training import TrainingIndex
from bot.safety import DangerNet
from bot.storage.db import AnswerFeedbackRow, LearningItemRow, StaffRow, make_engine, utcnow
from bot.storage.hotline_store import HotlineStore, Inbound
from bot.understanding import Understander
from tests.fakes import KeywordNLU

RULES = {"trafficking": "define_trafficking", "license": "verify_agent", "warning": "warning_signs"}
ITEMS, VOTES = LearningItemRow.__table__, AnswerFeedbackRow.__table__


@pytest.fixture(scope="module")
def languages():
    return LanguageIdentifier.from_training_data(ROOT / "nlu" / "data")


@pytest.fixture
def bot(db_url, languages, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "nlu" / "data", data)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(insert(StaffRow.__table__).values(username="hamid", display_name="Hamid Raza", password_hash="x",
                                                        role="agent", created_at=utcnow()))
    understander = Understander(KeywordNLU(RULES), languages,
                                DangerNet.from_file(ROOT / "content" / "safety" / "danger_lexicon.yml"), load_contract())
    i18n = I18n()
    service = ConversationService(Dialogue(understander, ContentStore(ROOT / "content"), i18n),
                                  HotlineStore(engine), i18n, training=TrainingIndex(data))
    yield service, engine
    engine.dispose()


def send(service, user, text, kind="text", names=()):
    return asyncio.run(service.handle(Inbound("tg", str(user), str(user), kind, text, names=tuple(names))))


def items(engine):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(ITEMS).order_by(ITEMS.c.id)).mappings()]


def votes(engine):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(VOTES.c.topic, VOTES.c.vote).order_by(VOTES.c.id))]


def buttons(handled):
    return [b for reply in handled.replies for row in reply.buttons for b in row]


def test_a_message_that_falls_back_lands_in_the_inbox_redacted(bot):
    service, engine = bot
    send(service, 1, "hello, is this service for everyone", names=("Zainab",))  # fell back (KeywordNLU)
    send(service, 1, "I am Zainab, Hamid from your team told me to call 0300-1234567 about Oman", names=("Zainab",))
    send(service, 2, "HELLO is this service for everyone??")  # the same message from someone else: counted
    got = items(engine)
    assert len(got) == 2
    assert got[0]["count"] == 2 and got[0]["source"] in ("fallback", "ask_back") and got[0]["language"] == "en"
    assert got[0]["intent"] == "out_of_scope" and got[0]["ranking"][0][0] == "out_of_scope"
    text = got[1]["text"]
    assert "Zainab" not in text and "Hamid" not in text and "1234567" not in text and "Oman" in text


def test_an_answered_message_does_not_land_and_training_examples_never_do(bot):
    service, engine = bot
    send(service, 3, "what is human trafficking")  # understood: answered
    assert items(engine) == []
    from bot.learning.training import read_file

    # out-of-scope examples of the training data: the fake NLU falls back on them, none lands
    examples = [line for line in read_file(ROOT / "nlu" / "data" / "en" / "out_of_scope.yml")
                if "[" not in line and len(line.split()) >= 6 and not any(k in line.lower() for k in RULES)][:3]
    assert len(examples) == 3
    for example in examples:
        send(service, 3, example.upper())
    assert items(engine) == []
    send(service, 3, "can you tell me who won the cricket match yesterday in Sharjah stadium")
    assert len(items(engine)) == 1


def test_thumbs_under_an_answer_once_per_answer(bot):
    service, engine = bot
    answer = send(service, 4, "what are the warning signs of a fake agent")
    thumbs = [b for b in buttons(answer) if b.payload.startswith("fb:")]
    assert [b.label for b in thumbs] == ["👍", "👎"]
    up = send(service, 4, thumbs[0].payload, kind="button")
    assert up.replies and "Thank you" in up.replies[0].text
    again = send(service, 4, thumbs[1].payload, kind="button")  # a second press on the same answer
    assert again.replies == []
    assert votes(engine) == [("warning_signs", "up")]
    assert items(engine) == []


def test_thumbs_down_lands_the_question_and_offers_a_person(bot):
    service, engine = bot
    answer = send(service, 5, "mera naam Asif hai, fake agent ki warning signs kya hain", names=("Asif",))
    down = [b for b in buttons(answer) if b.payload.startswith("fb:down")][0]
    said = send(service, 5, down.payload, kind="button")
    assert any(b.payload == "act:human" for b in buttons(said))  # "ask a person"
    assert votes(engine) == [("warning_signs", "down")]
    [item] = items(engine)
    assert item["source"] == "not_helpful" and item["intent"] == "warning_signs"
    assert "Asif" not in item["text"] and "fake agent ki warning signs kya hain" in item["text"]
    assert send(service, 5, down.payload, kind="button").replies == []  # once
    assert len(items(engine)) == 1 and len(votes(engine)) == 1


def test_an_older_answers_thumbs_do_nothing(bot):
    service, engine = bot
    first = send(service, 6, "what is human trafficking")
    send(service, 6, "what are the warning signs")
    old = [b for b in buttons(first) if b.payload.startswith("fb:down")][0]
    assert send(service, 6, old.payload, kind="button").replies == []
    assert votes(engine) == [] and items(engine) == []


@pytest.mark.parametrize("language,text", [("ur", "آج موسم کیسا ہے"), ("ur-Latn", "aaj mausam kaisa hai yaar")])
def test_urdu_fallbacks_land_in_their_language(bot, language, text):
    service, engine = bot
    send(service, 7, text)
    [item] = items(engine)
    assert item["language"] == language and item["text"] == text


def test_an_ask_back_lands_with_the_nlu_ranking(db_url, languages, tmp_path):
    from bot.understanding import NLUResult

    class Unsure(KeywordNLU):
        async def parse(self, text):
            return NLUResult("visa_rules", 0.31, [("visa_rules", 0.31), ("agent_fees", 0.3), ("safe_migration", 0.2),
                                                  ("warning_signs", 0.1), ("greet", 0.05)], [], fallback=True)

    engine = make_engine(db_url)
    understander = Understander(Unsure({}), languages,
                                DangerNet.from_file(ROOT / "content" / "safety" / "danger_lexicon.yml"), load_contract())
    i18n = I18n()
    service = ConversationService(Dialogue(understander, ContentStore(ROOT / "content"), i18n), HotlineStore(engine),
                                  i18n, training=TrainingIndex(tmp_path))
    try:
        handled = send(service, 8, "can my cousin's wife's brother come on the same papers")
        assert any(b.payload.startswith("topic:") for b in buttons(handled))  # "Did you mean one of these?"
        [item] = items(engine)
        assert item["source"] == "ask_back"
        assert [name for name, _ in item["ranking"]] == ["visa_rules", "agent_fees", "safe_migration", "warning_signs"]
    finally:
        engine.dispose()
