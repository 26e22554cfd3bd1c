"""The dialogue core with a fake NLU (milliseconds): every intent answered in the user's language, the
offer check from start to result, pre-fill, fallback and the human offer, language switches, content
edits and a fourth language."""
import asyncio
import shutil

import pytest

from bot.config import ROOT
from bot.contract import load_contract
from bot.dialogue.content import ContentStore
from bot.dialogue.engine import Dialogue
from bot.i18n import I18n
from bot.language import LanguageIdentifier
from bot.safety import DangerNet
from bot.understanding import NLUResult, Understander
from tests.fakes import Conversations

CONTRACT = load_contract()


class ScriptedNLU:
    """Returns the intent scripted for a text (exact match), else an unsure out_of_scope."""

    def __init__(self):
        self.script: dict[str, tuple[str, float]] = {}

    def says(self, text: str, intent: str, confidence: float = 0.9) -> str:
        self.script[text] = (intent, confidence)
        return text

    async def parse(self, text: str) -> NLUResult:
        intent, conf = self.script.get(text, ("out_of_scope", 0.2))
        ranking = [(intent, conf), ("warning_signs", 0.1), ("verify_agent", 0.05)]
        return NLUResult(intent, conf, ranking, [], fallback=conf < 0.45)


@pytest.fixture(scope="module")
def languages():
    return LanguageIdentifier.from_training_data(ROOT / "nlu" / "data")


def make(languages, content_root=ROOT / "content", locales=ROOT / "locales", interval=1.0):
    nlu = ScriptedNLU()
    understander = Understander(nlu, languages, DangerNet.from_file(ROOT / "content" / "safety" / "danger_lexicon.yml"),
                                CONTRACT)
    store = ContentStore(content_root, interval=interval)
    dialogue = Conversations(Dialogue(understander, store, I18n(locales)))
    return dialogue, nlu, store


def run(coro):
    return asyncio.run(coro)


SAMPLES = {"en": "please tell me about this thing", "ur": "براہ کرم اس بارے میں بتائیں",
           "ur-Latn": "mujhe is bare mein thora batayein yaar"}


@pytest.mark.parametrize("lang", ["en", "ur", "ur-Latn"])
def test_every_contract_intent_is_answered_in_the_users_language(languages, lang):
    dialogue, nlu, store = make(languages)
    content = store.get()
    for number, intent in enumerate(CONTRACT.intents):
        text = nlu.says(f"{SAMPLES[lang]} {number}", intent)
        turn = run(dialogue.handle_text(f"u-{lang}-{intent}", text))
        assert turn.language == lang, (intent, turn.language)
        joined = "\n".join(r.text for r in turn.replies)
        if intent in ("check_study_offer", "check_job_offer"):
            assert content.answer(intent, lang) in joined
            assert turn.replies[-1].buttons, "the first question comes with yes/no/not sure buttons"
        elif intent == "report_suspect":  # high, but only after the guided form is sent
            assert any(b.payload == "rf:cancel" for row in turn.replies[-1].buttons for b in row)
            assert turn.escalation is None
        else:
            assert content.answer(content.by_intent[intent].id, lang) in joined, intent
        assert all(r.rtl == (lang == "ur") for r in turn.replies)
        if CONTRACT.priority(intent) in ("high", "normal") and intent != "report_suspect":
            assert turn.escalation == CONTRACT.priority(intent)


def press(dialogue, user, turn, label_or_payload_prefix):
    for reply in reversed(turn.replies):
        for row in reply.buttons:
            for button in row:
                if button.payload.startswith(label_or_payload_prefix) or button.label == label_or_payload_prefix:
                    return run(dialogue.handle_button(user, button.payload))
    raise AssertionError(f"no button {label_or_payload_prefix!r} in {[r.buttons for r in turn.replies]}")


def safe_answer(dialogue, question: str) -> str:
    """The answer to a question that is not its red flag ("no" to "asked for money first?", "yes" to "do you
    have a written contract?")."""
    flag = Dialogue._check(dialogue.content_store.get()).by_id[question].flag
    return "yes" if flag == "no" else "no"


def answer_all(dialogue, user, turn, answers: dict[str, str], default=None):
    """Answers every question: from `answers`, else `default`, else the safe answer."""
    for _ in range(30):
        last = turn.replies[-1]
        payloads = [b.payload for row in last.buttons for b in row]
        question = next((p.split(":")[2] for p in payloads if p.startswith("oc:yes:")), None)
        if question is None:
            return turn
        value = answers.get(question, default or safe_answer(dialogue, question))
        turn = run(dialogue.handle_button(user, f"oc:{value}:{question}"))
    raise AssertionError("the check did not end")


def test_offer_check_low_medium_high(languages):
    dialogue, nlu, store = make(languages)
    for answers, level_text in (({}, "Low risk"), ({"upfront_money": "yes", "too_good": "unsure"}, "Medium risk"),
                                ({"passport_documents": "yes"}, "High risk"),
                                ({"upfront_money": "yes", "personal_account": "yes", "debt": "yes"}, "High risk")):
        user = f"check-{len(answers)}-{level_text}"
        turn = run(dialogue.handle_text(user, "/check"))
        turn = press(dialogue, user, turn, "oc:kind:job")
        assert turn.replies[-1].text.startswith(f"Question 1 of {store.get().question_count('job')}")
        turn = answer_all(dialogue, user, turn, answers)
        result = turn.replies[-1]
        assert result.text.startswith(level_text), result.text
        has_hotline = any(b.payload == "act:pass_check" for row in result.buttons for b in row)
        assert has_hotline == (level_text == "High risk")
        state = dialogue.states.get(user)
        assert state.flow is None and state.data["last_offer_check"]["breakdown"][-1].startswith("=> ")


def test_study_check_asks_study_questions(languages):
    dialogue, nlu, store = make(languages)
    text = nlu.says("is this admission real", "check_study_offer")
    turn = run(dialogue.handle_text("s", text))
    assert f"Question 1 of {store.get().question_count('study')}" in turn.replies[-1].text
    turn = answer_all(dialogue, "s", turn, {"fee_to_consultant": "yes", "verified": "no"})
    assert "university" in turn.replies[-1].text and "Medium risk" in turn.replies[-1].text


def test_free_text_prefills_red_flags_and_asks_only_the_rest(languages):
    dialogue, nlu, _ = make(languages)
    text = nlu.says("job in Dubai, agent wants 3 lakh advance in cash and says go on a visit visa", "check_job_offer")
    turn = run(dialogue.handle_text("p", text))
    noted = next(r.text for r in turn.replies if r.text.startswith("From what you told me"))
    assert "advance" in noted and "visit visa" in noted
    asked = set()
    for _ in range(20):
        payloads = [b.payload for row in turn.replies[-1].buttons for b in row]
        q = next((p.split(":")[2] for p in payloads if p.startswith("oc:yes:")), None)
        if not q:
            break
        asked.add(q)
        turn = run(dialogue.handle_button("p", f"oc:{safe_answer(dialogue, q)}:{q}"))
    assert {"upfront_money", "personal_account", "visit_visa_work"}.isdisjoint(asked)
    assert "High risk" in turn.replies[-1].text  # visit visa for work is critical


def test_typed_answers_and_interruptions_in_the_check(languages):
    dialogue, nlu, store = make(languages)
    total = store.get().question_count("study")
    turn = run(dialogue.handle_text("t", "/check"))
    turn = press(dialogue, "t", turn, "oc:kind:study")
    no = nlu.says("no it is not like that", "deny")
    turn = run(dialogue.handle_text("t", no))
    assert turn.replies[-1].text.startswith("Noted: No")  # repeated back, with a way to change it
    assert f"Question 2 of {total}" in turn.replies[-1].text
    assert any(b.payload == "oc:undo:under_18" for row in turn.replies[-1].buttons for b in row)
    assert dialogue.states.get("t").flow["answers"]["under_18"] == "no"
    yes = nlu.says("yes it is like that", "affirm")
    turn = run(dialogue.handle_text("t", yes))
    assert dialogue.states.get("t").flow["answers"]["upfront_money"] == "yes"
    turn = run(dialogue.handle_text("t", "pata nahi yaar"))
    assert dialogue.states.get("t").flow["answers"]["personal_account"] == "unsure"
    assert turn.language == "ur-Latn" and f"Sawal 4 / {total}" in turn.replies[-1].text
    turn = run(dialogue.handle_button("t", "lang:en"))
    other = nlu.says("how do i check an agent licence", "verify_agent")
    turn = run(dialogue.handle_text("t", other))  # a question inside the check: answered, then asked again
    assert store.get().answer("verify_agent", "en") in turn.replies[0].text
    assert turn.replies[-1].text.startswith(f"Question 4 of {total}")
    statement = nlu.says("the agent office is in Gilgit", "verify_agent")  # not a question: the check waits
    turn = run(dialogue.handle_text("t", statement))
    assert any(b.payload == "act:offer_continue" for r in turn.replies for row in r.buttons for b in row)
    turn = run(dialogue.handle_button("t", "act:offer_continue"))
    assert turn.replies[-1].text.startswith(f"Question 4 of {total}")
    stale = run(dialogue.handle_button("t", "oc:no:upfront_money"))  # an old button: ignored, asked again
    assert stale.replies[-1].text.startswith(f"Question 4 of {total}")
    assert dialogue.states.get("t").flow["answers"]["upfront_money"] == "yes"


def test_a_question_aside_in_the_report_form(languages):
    """Where the form waits for text, the text is the answer; where it waits for a button, a question on
    another topic is answered, with a button back to the report; unclear text asks for the buttons."""
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("r", "lang:en"))  # picked: short texts do not switch the language
    run(dialogue.handle_text("r", "/report"))
    question = nlu.says("what is the dunki route", "irregular_route")
    turn = run(dialogue.handle_text("r", question))  # "what happened?": this is the answer
    assert dialogue.states.get("r").flow["answers"]["what"] == question
    assert turn.replies[-1].text.startswith("Report: question 2 of 5")
    for _ in range(3):
        turn = press(dialogue, "r", turn, "rf:skip")
    assert turn.replies[-1].text.startswith("Report: question 5 of 5")  # may the hotline contact you
    turn = run(dialogue.handle_text("r", question))
    assert store.get().answer("irregular_route", "en") in turn.replies[0].text
    assert dialogue.states.get("r").flow["step"] == "contact"  # the report waits
    turn = press(dialogue, "r", turn, "act:report_continue")
    assert turn.replies[-1].text.startswith("Report: question 5 of 5")
    for unclear in ("hmm", nlu.says("hello there", "greet"), nlu.says("check my job offer", "check_job_offer")):
        turn = run(dialogue.handle_text("r", unclear))
        # never only "please answer with the buttons": the question is asked again in words
        assert turn.replies[0].text.startswith("May the SafeSafar team write to you here")
        assert "Report: question 5 of 5" in turn.replies[0].text
        assert dialogue.states.get("r").flow["name"] == "report"
    turn = run(dialogue.handle_text("r", nlu.says("yes please", "affirm")))
    assert turn.replies[-1].text.startswith("Please check your report before you send it:")
    turn = run(dialogue.handle_text("r", question))  # the review waits for a button too
    # asked a second time: a pointer to the answer above, not the same page again
    assert turn.replies[0].text.startswith("I answered this above")
    assert any(b.payload == "topic:irregular_route" for row in turn.replies[0].buttons for b in row)
    assert dialogue.states.get("r").flow["step"] == "review"
    turn = press(dialogue, "r", turn, "act:report_continue")
    turn = press(dialogue, "r", turn, "rf:send")
    assert dialogue.states.get("r").flow is None and turn.escalation == "high"


def test_fallback_asks_back_then_offers_a_human(languages):
    dialogue, nlu, _ = make(languages)
    first = run(dialogue.handle_text("f", "hmm blah"))
    payloads = [b.payload for row in first.replies[-1].buttons for b in row]
    assert payloads[:2] == ["topic:warning_signs", "topic:verify_agent"]
    second = run(dialogue.handle_text("f", "hmm blah again"))
    payloads = [b.payload for row in second.replies[-1].buttons for b in row]
    assert "act:human:fallback" in payloads
    human = run(dialogue.handle_button("f", "act:human:fallback"))
    assert (human.escalation, human.reason) == ("normal", "fallback")
    asked = run(dialogue.handle_button("g", "act:human"))
    assert (asked.escalation, asked.reason) == ("normal", "human")


def test_reply_follows_the_users_language_until_they_choose_one(languages):
    dialogue, nlu, store = make(languages)
    content = store.get()
    t1 = run(dialogue.handle_text("l", nlu.says("ایجنٹ کا لائسنس کیسے چیک کروں", "verify_agent")))
    assert t1.language == "ur" and content.answer("verify_agent", "ur") in t1.replies[0].text
    t2 = run(dialogue.handle_text("l", nlu.says("agent ka license kaise check karun", "verify_agent")))
    assert t2.language == "ur-Latn"
    t3 = run(dialogue.handle_button("l", "lang:ur"))
    assert t3.replies[0].text == "زبان اردو کر دی گئی ہے۔"
    t4 = run(dialogue.handle_text("l", nlu.says("how do i check an agent", "verify_agent")))
    assert t4.language == "ur", "a chosen language stays"


def test_emergency_comes_first_and_pauses_the_check(languages):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_text("e", "/check"))
    turn = run(dialogue.handle_text("e", nlu.says("they locked my brother in a room in Tripoli", "irregular_route")))
    assert turn.escalation == "urgent" and turn.topic == "emergency"
    assert store.get().answer("emergency", "en") in turn.replies[0].text
    assert dialogue.states.get("e").flow is not None


def test_commands_never_reach_the_nlu(languages):
    dialogue, nlu, _ = make(languages)
    seen = []
    original = nlu.parse

    async def spy(text):
        seen.append(text)
        return await original(text)

    nlu.parse = spy
    for command in ("/start", "/help", "/language", "/check", "/menu", "/hotline", "/privacy", "/nonsense"):
        turn = run(dialogue.handle_text("c", command))
        assert turn.replies
    assert seen == []


def test_delete_me_erases_state(languages):
    dialogue, nlu, _ = make(languages)
    run(dialogue.handle_button("d", "lang:ur"))
    assert dialogue.states.get("d").language == "ur"
    turn = run(dialogue.handle_text("d", "/delete_me"))
    turn = press(dialogue, "d", turn, "del:yes")
    assert dialogue.states.get("d").language is None


def test_editing_a_content_file_changes_the_next_answer(languages, tmp_path):
    root = tmp_path / "content"
    shutil.copytree(ROOT / "content", root)
    dialogue, nlu, store = make(languages, content_root=root, interval=0)
    text = nlu.says("what are the warning signs", "warning_signs")
    before = run(dialogue.handle_text("x", text)).replies[0].text
    path = root / "topics" / "warning_signs.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("  en: |\n", "  en: |\n    EDITED LINE.\n", 1), encoding="utf-8")
    after = run(dialogue.handle_text("x2", text)).replies[0].text  # another user: x saw this topic already
    assert "EDITED LINE." not in before and after.startswith("EDITED LINE.")
    path.write_text("id: [broken", encoding="utf-8")  # a broken edit keeps the last good content
    still = run(dialogue.handle_text("x3", text)).replies[0].text
    assert still.startswith("EDITED LINE.") and store.last_error


def test_a_fourth_language_is_only_files(languages, tmp_path):
    import yaml

    root, locales = tmp_path / "content", tmp_path / "locales"
    shutil.copytree(ROOT / "content", root)
    shutil.copytree(ROOT / "locales", locales)
    langs = yaml.safe_load((root / "languages.yml").read_text(encoding="utf-8"))
    langs["languages"]["ps"] = {"name": "پښتو", "catalog": "ps", "babel": "ps", "direction": "rtl", "fallback": "ur"}
    (root / "languages.yml").write_text(yaml.safe_dump(langs, allow_unicode=True), encoding="utf-8")
    topic = root / "topics" / "verify_agent.yml"
    data = yaml.safe_load(topic.read_text(encoding="utf-8"))
    data["answer"]["ps"] = "د اجنټ جواز وګورئ."
    topic.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (locales / "ps" / "LC_MESSAGES").mkdir(parents=True)
    (locales / "ps" / "LC_MESSAGES" / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Choose your language"\nmsgstr "خپله ژبه وټاکئ"\n', encoding="utf-8")
    dialogue, nlu, _ = make(languages, content_root=root, locales=locales)
    picker = run(dialogue.handle_text("ps", "/language"))
    assert "lang:ps" in [b.payload for r in picker.replies for row in r.buttons for b in row]
    run(dialogue.handle_button("ps", "lang:ps"))
    turn = run(dialogue.handle_text("ps", nlu.says("agent licence?", "verify_agent")))
    assert turn.language == "ps" and turn.replies[0].text.startswith("د اجنټ جواز وګورئ.") and turn.replies[0].rtl
    assert run(dialogue.handle_text("ps", "/language")).replies[0].text == "خپله ژبه وټاکئ"  # its own catalog
    menu = run(dialogue.handle_button("ps", "act:menu"))
    assert menu.replies[0].text == "آپ کیا کرنا چاہیں گے؟"  # missing in ps: from its fallback, Urdu
    other = run(dialogue.handle_text("ps", nlu.says("what is trafficking", "define_trafficking")))
    assert other.replies[0].text.startswith(yaml.safe_load((root / "topics" / "define_trafficking.yml").read_text())["answer"]["ur"].strip()[:20])


def test_catalogs_translate_every_interface_string():
    from babel.messages.pofile import read_po

    template = {m.id for m in read_po(open(ROOT / "locales" / "messages.pot", "rb")) if m.id}
    for catalog in ("ur", "ur_Latn"):
        po = read_po(open(ROOT / "locales" / catalog / "LC_MESSAGES" / "messages.po", "rb"))
        translated = {m.id for m in po if m.id and m.string}
        assert template <= translated, (catalog, template - translated)


def test_dates_are_formatted_for_the_locale(languages):
    dialogue, nlu, _ = make(languages)
    for lang, expected in (("en", "Nov 29, 2026"), ("ur", "29 نومبر، 2026"), ("ur-Latn", "29/11/2026")):
        run(dialogue.handle_button(f"d-{lang}", f"lang:{lang}"))
        turn = run(dialogue.handle_button(f"d-{lang}", "topic:define_trafficking"))
        assert expected in turn.replies[0].text, (lang, turn.replies[0].text[-80:])


def test_content_check_finds_broken_content(tmp_path):
    from bot.dialogue.content_check import check

    root = tmp_path / "content"
    shutil.copytree(ROOT / "content", root)
    assert check(root, CONTRACT, ROOT / "locales").errors == []
    (root / "topics" / "privacy.yml").unlink()  # an intent without an answer
    orphan = root / "topics" / "orphan.yml"
    orphan.write_text("id: orphan\nintents: []\ntitle: {en: x, ur: x, ur-Latn: x}\nanswer: {en: x, ur: x, ur-Latn: x}\n"
                      "buttons: [{topic: nowhere}]\nsources: []\n", encoding="utf-8")
    errors = "\n".join(check(root, CONTRACT, ROOT / "locales").errors)
    assert "'privacy' has no topic" in errors and "unknown topic 'nowhere'" in errors
    assert "orphan.yml: unreachable" in errors and "orphan.yml: no sources" in errors and "no review date" in errors


@pytest.mark.parametrize("lang", ["en", "ur", "ur-Latn"])
def test_short_answer_first_then_details_and_sources_behind_more(languages, lang):
    """The first message is the short answer (at most MAX_WORDS words in every language); "More" shows the
    details and the sources with their links, in the same language."""
    from bot.dialogue.content_check import MAX_WORDS, words

    dialogue, nlu, store = make(languages)
    content = store.get()
    for topic in content.topics.values():
        assert words(content.answer(topic.id, lang)) <= MAX_WORDS, (topic.id, lang)
    user = f"more-{lang}"
    run(dialogue.handle_button(user, f"lang:{lang}"))
    first = run(dialogue.handle_button(user, "topic:emergency"))
    assert first.replies[0].text.startswith(content.answer("emergency", lang))
    assert "dawn.com" not in first.replies[0].text  # sources are one tap away, not in the first message
    more = press(dialogue, user, first, "more:emergency")
    text = more.replies[0].text
    assert content.more("emergency", lang) in text
    assert "https://www.dawn.com/news/1797803" in text and "2023-12-14" in text
    assert more.replies[0].rtl == (lang == "ur")


def test_keywords_pick_a_topic_among_those_sharing_an_intent(languages):
    dialogue, nlu, store = make(languages)
    content = store.get()
    assert content.topic_for("victim_support", "my employer in Dubai has not paid my salary").id == "abroad_in_trouble"
    assert content.topic_for("victim_support", "mera beta deport ho kar wapas aa gaya").id == "inside_pakistan_returnees"
    assert content.topic_for("victim_support", "what help is there for victims").id == "victim_support"
    assert content.topic_for("safe_migration", "study in Russia then Europe").id == "student_routes"
    # the longest keyword wins where two topics' keywords match
    assert content.topic_for("victim_support", "بیٹا ڈی پورٹ ہو کر واپس آیا، تنخواہ بھی نہیں ملی").id == "inside_pakistan_returnees"
    text = nlu.says("agent mere paise le gaya, ab kya karun", "agent_fees")
    turn = run(dialogue.handle_text("kw", text))
    assert turn.topic == "agent_took_money"
    assert content.answer("agent_took_money", "ur-Latn") in turn.replies[0].text


def test_a_finer_intent_answers_with_its_topic_under_the_contract_intent(languages):
    """A finer intent (nlu/contract/finer.yml) picks the topic that lists it, no keyword needed; the turn's
    intent and escalation are the contract intent's."""
    finer_contract = load_contract()
    root = ROOT / "content"
    topics = {"abroad_in_trouble": "abroad_in_trouble", "debt_bondage": "debt_bondage",
              "punishment_anonymity": "anonymous_reporting"}
    nlu = ScriptedNLU()
    understander = Understander(nlu, languages, DangerNet.from_file(ROOT / "content" / "safety" / "danger_lexicon.yml"),
                                finer_contract)
    store = ContentStore(root, interval=1.0)
    dialogue = Conversations(Dialogue(understander, store, I18n(ROOT / "locales")))
    content = store.get()
    for number, (finer, topic_id) in enumerate(topics.items()):
        text = nlu.says(f"{SAMPLES['en']} {number}", finer)  # no topic keyword in the text
        turn = run(dialogue.handle_text(f"finer-{finer}", text))
        assert turn.topic == topic_id, (finer, turn.topic)
        assert turn.understanding.intent == finer_contract.finer[finer] and turn.understanding.detail == finer
        assert content.answer(topic_id, "en") in turn.replies[0].text
        assert turn.escalation is None


def test_every_listed_topic_is_reachable_from_the_menu(languages):
    dialogue, nlu, store = make(languages)
    content = store.get()
    menu = run(dialogue.handle_text("m", "/menu"))
    topics = press(dialogue, "m", menu, "act:topics")
    listed = {b.payload for row in topics.replies[0].buttons for b in row}
    new = {"abroad_in_trouble", "family_silent_ransom", "online_job_scams", "agent_took_money", "protector_offloading",
           "student_routes", "anonymous_reporting", "debt_bondage", "women_children", "inside_pakistan_returnees"}
    assert {f"topic:{t}" for t in new} <= listed
    from bot.dialogue.content_check import NO_SOURCES_NEEDED

    for topic in content.topics.values():  # every listed topic: a review date, a way in by typing, sources
        if topic.menu is not None:
            assert topic.reviewed and topic.intents, topic.id
            assert topic.sources or topic.id in NO_SOURCES_NEEDED, topic.id


def test_content_check_enforces_length_and_glossary(tmp_path):
    from bot.dialogue.content_check import check

    root = tmp_path / "content"
    shutil.copytree(ROOT / "content", root)
    path = root / "topics" / "verify_agent.yml"
    text = path.read_text(encoding="utf-8")
    long = " ".join(["word"] * 71)
    text = text.replace("answer:\n  en: |\n", f"answer:\n  en: |\n    {long}\n", 1)
    text = text.replace("more:\n  en: |\n", "more:\n  en: |\n    Send your papers to the hotline.\n", 1)
    path.write_text(text, encoding="utf-8")
    report = check(root, CONTRACT, ROOT / "locales")
    assert any("verify_agent.yml answer.en" in e and "at most 70" in e for e in report.errors)
    assert any("verify_agent.yml more.en" in e and "safesafar_team" in e for e in report.errors)
    assert not any("answer.ur" in e and "verify_agent" in e for e in report.errors)  # per language


AMBIGUOUS = {"en": "my cousin has gone missing near the border",
             "ur": "میرا کزن سرحد کے پاس لاپتہ ہے",
             "ur-Latn": "mera cousin border ke paas lapata hai"}
QUESTION = {"en": "Is someone in danger right now?", "ur": "کیا کوئی اس وقت خطرے میں ہے؟",
            "ur-Latn": "Kya koi is waqt khatre mein hai?"}


@pytest.mark.parametrize("lang", ["en", "ur", "ur-Latn"])
def test_an_ambiguous_signal_shows_the_numbers_then_asks_yes_or_no(languages, lang):
    dialogue, nlu, store = make(languages)
    user = f"amb-{lang}"
    turn = run(dialogue.handle_text(user, nlu.says(AMBIGUOUS[lang], "irregular_route")))
    assert turn.escalation is None and turn.language == lang
    numbers, question = turn.replies[-2], turn.replies[-1]
    assert "1122" in numbers.text and "111-247-786" in numbers.text  # confirmed facts
    assert "15" not in numbers.text.split()  # the police number is not confirmed yet: not shown
    assert question.text == QUESTION[lang]
    assert [b.payload for row in question.buttons for b in row] == ["dg:yes", "dg:no"]
    yes = press(dialogue, user, turn, "dg:yes")
    assert yes.escalation == "urgent" and yes.reason == "safety_net" and yes.topic == "emergency"
    assert yes.case["fired_by"].startswith("asked; the user answered yes")
    assert store.get().answer("emergency", lang) in "\n".join(r.text for r in yes.replies)


def test_no_answers_the_question_and_opens_nothing(languages):
    dialogue, nlu, store = make(languages)
    turn = run(dialogue.handle_text("amb-no", nlu.says(AMBIGUOUS["en"], "irregular_route")))
    no = press(dialogue, "amb-no", turn, "dg:no")
    assert no.escalation is None and no.topic == "irregular_route"
    assert store.get().answer("irregular_route", "en") in no.replies[-1].text
    assert "danger_check" not in dialogue.states.get("amb-no").data


def test_a_typed_yes_counts_and_any_other_message_ends_the_question(languages):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_text("amb-t", nlu.says(AMBIGUOUS["ur-Latn"], "irregular_route")))
    yes = run(dialogue.handle_text("amb-t", nlu.says("haan", "affirm")))
    assert yes.escalation == "urgent" and yes.reason == "safety_net"
    run(dialogue.handle_text("amb-o", nlu.says(AMBIGUOUS["en"], "irregular_route")))
    other = run(dialogue.handle_text("amb-o", nlu.says("what fees may an agent take", "agent_fees")))
    assert other.escalation is None and other.topic == "agent_fees"
    later = run(dialogue.handle_text("amb-o", nlu.says("yes", "affirm")))
    assert later.escalation is None  # the question was over: a yes now is just a yes


def test_a_strong_signal_escalates_at_once_without_a_question(languages):
    dialogue, nlu, _ = make(languages)
    turn = run(dialogue.handle_text("strong", nlu.says("they are beating my brother every day", "victim_support")))
    assert turn.escalation == "urgent" and turn.reason == "safety_net"
    assert "beat/" in turn.case["fired_by"]
    assert not any(b.payload.startswith("dg:") for r in turn.replies for row in r.buttons for b in row)


def test_a_general_question_gets_its_topic(languages):
    dialogue, nlu, store = make(languages)
    for number, text in enumerate(("why do so many people drown on the boat route to italy",
                                   "kya boat se italy jana khatarnak hai, log doob jate hain?",
                                   "اگر کسی کو لیبیا میں اغوا کر لیا جائے تو کیا ہوتا ہے؟")):
        turn = run(dialogue.handle_text(f"gen-{number}", nlu.says(text, "irregular_route")))
        assert turn.escalation is None and turn.topic == "irregular_route", text
