"""The offer check's rules (content/offer_check.yml through bot/dialogue/offer_check.py), one by one, and a
conversation per language through the dialogue: negation in the pre-fill, "not sure" answers, the
unlicensed recruiter who wants cash, positive questions, the overland route question, the new red flags,
the questions per kind and their count, and the explanation of each result."""
from __future__ import annotations

import re

import pytest

from bot.config import ROOT
from bot.dialogue.content import ContentStore
from bot.dialogue.offer_check import OfferCheck, variant
from bot.text import strip_bidi
from tests.test_dialogue import languages, make, run, safe_answer  # noqa: F401  (a fixture)

CONTENT = ContentStore(ROOT / "content").get()
CHECK = OfferCheck(CONTENT.offer_check)


def prefilled(text: str, kind: str | None = "job") -> dict[str, str]:
    state = CHECK.start(kind)
    CHECK.prefill(state, text)
    return state["answers"]


def scored(kind: str, **answers):
    state = CHECK.start(kind)
    for q in CHECK.applicable(kind):  # every question answered safely, then the given answers
        state["answers"][q.id] = "yes" if q.flag == "no" else "no"
    state["answers"].update(answers)
    return CHECK.score(state)


# -- negation in the pre-fill ----------------------------------------------------------------------------
@pytest.mark.parametrize("text, question", [
    ("it is not a dunki", "irregular_route"),
    ("I will not go by boat", "irregular_route"),
    ("visit visa nahi hai, work visa hai", "visit_visa_work"),
    ("boat se nahi jana", "irregular_route"),
    ("dunki nahi hai bhai", "irregular_route"),
    ("na dunki na kashti, seedha flight", "irregular_route"),
    ("یہ ڈنکی نہیں ہے", "irregular_route"),
    ("کشتی سے نہیں جانا", "irregular_route"),
    ("وزٹ ویزا پر نہیں جانا", "visit_visa_work"),
    ("نہ ڈنکی نہ کشتی، سیدھی فلائٹ ہے", "irregular_route"),
    ("agent cash nahi leta, bank se payment hai", "personal_account"),
    ("he does not want any advance", "upfront_money"),
    ("I don't want to go by dunki", "irregular_route"),
    ("dunki ka koi chakkar nahi", "irregular_route"),
    ("ایجنٹ ایڈوانس نہیں مانگ رہا", "upfront_money"),
])
def test_a_negated_red_flag_is_not_set(text, question):
    assert question not in prefilled(text)


@pytest.mark.parametrize("text, question", [
    ("it is a dunki route through iran by road", "irregular_route"),
    ("boat se jana hai", "irregular_route"),
    ("visit visa pe bhej rahe hain", "visit_visa_work"),
    ("کشتی سے جانا ہے", "irregular_route"),
    ("وزٹ ویزا پر بھیج رہے ہیں", "visit_visa_work"),
    ("agent wants cash", "personal_account"),
    ("he gave no receipt", "personal_account"),  # the phrase holds the negation itself
    ("receipt nahi di", "personal_account"),
    ("رسید نہیں دی", "personal_account"),
])
def test_an_unnegated_red_flag_is_still_set(text, question):
    answers = prefilled(text)
    assert answers.get(question) == CHECK.by_id[question].flag


def test_a_red_flag_asked_about_is_asked_not_set():
    assert "irregular_route" not in prefilled("the agent says the route is safe. is it a dunki?")
    assert "irregular_route" not in prefilled("kya yeh dunki hai?")
    assert "irregular_route" not in prefilled("کیا یہ ڈنکی ہے؟")
    answers = prefilled("agent wants cash, is this job real?")
    assert answers.get("personal_account") == "yes"


def test_negation_reaches_only_its_own_clause():
    answers = prefilled("visit visa nahi, dunki se jana hai")
    assert "visit_visa_work" not in answers and answers["irregular_route"] == "yes"
    answers = prefilled("it is not a visit visa but they said we go by boat")
    assert "visit_visa_work" not in answers and answers["irregular_route"] == "yes"


# -- "not sure" answers ----------------------------------------------------------------------------------
def test_many_unknowns_get_their_own_result_never_high():
    for kind in ("study", "job"):
        every = {q.id: "unsure" for q in CHECK.applicable(kind)}
        result = scored(kind, **every)
        assert result.level == "unclear" and not result.reasons, result.breakdown
        critical = {q.id: "unsure" for q in CHECK.applicable(kind) if q.critical}
        assert len(critical) >= CHECK.unsure_limit
        assert scored(kind, **critical).level == "unclear"
    few = scored("job", upfront_money="unsure", debt="unsure")
    assert few.level in ("low", "medium") and len(few.unsure) == 2
    assert scored("job", upfront_money="yes", personal_account="unsure", debt="unsure",
                  too_good="unsure").level == "medium"  # a red flag and unknowns: medium, not unclear


def test_unknowns_alone_never_make_high():
    for kind in ("study", "job"):
        for q in CHECK.applicable(kind):
            assert scored(kind, **{q.id: "unsure"}).level != "high", q.id


# -- weights ---------------------------------------------------------------------------------------------
def test_an_unlicensed_recruiter_who_wants_cash_is_high():
    result = scored("job", verified="no", personal_account="yes")
    assert result.level == "high" and [c.id for c in result.combinations] == ["unlicensed_cash"]
    assert scored("job", verified="no").level == "medium"
    assert scored("job", personal_account="yes").level == "medium"
    assert scored("job", verified="unsure", personal_account="yes").level != "high"


@pytest.mark.parametrize("question", ["under_18", "coached_answers", "irregular_route", "passport_documents",
                                      "visit_visa_work"])
def test_critical_red_flags_are_high_alone(question):
    q = CHECK.by_id[question]
    assert q.critical
    for kind in q.applies:
        assert scored(kind, **{question: q.flag}).level == "high"


# -- the questions ---------------------------------------------------------------------------------------
NEGATIONS = {"en": re.compile(r"\b(not|no|never|unable|cannot|none)\b|n't", re.I),
             "ur": re.compile(r"نہیں|(?<!\S)نہ(?!\S)|(?<!\S)مت(?!\S)"),
             "ur-Latn": re.compile(r"\b(nahi|nahin|nai|na|mat)\b", re.I)}


def test_every_question_is_asked_positively_in_every_language():
    for q in CHECK.questions:
        for kind in q.applies:
            texts = variant(q.ask, kind)
            for lang, pattern in NEGATIONS.items():
                assert not pattern.search(texts[lang]), (q.id, kind, lang, texts[lang])
            assert q.flag in ("yes", "no")


def test_buttons_say_what_they_mean_where_no_is_the_red_flag():
    for q in CHECK.questions:
        if q.flag == "no":
            for kind in q.applies:
                for answer in ("yes", "no"):
                    labels = q.label(answer, kind)
                    assert set(labels) >= {"en", "ur", "ur-Latn"} and all(len(v) <= 40 for v in labels.values())
    labels = CHECK.by_id["written_offer"].label
    assert labels("yes", "job")["en"] == "Yes, I have a contract" and "No contract" in labels("no", "job")["en"]


def test_a_connecting_flight_is_not_a_dunki():
    for text in ("job in Germany, the flight goes via Dubai", "connecting flight through Dubai and Istanbul",
                 "dubai se connecting flight hai", "دبئی سے کنیکٹنگ فلائٹ ہے", "flight via turkey to italy"):
        assert "irregular_route" not in prefilled(text), text
    ask = variant(CHECK.by_id["irregular_route"].ask, "job")
    assert "road" in ask["en"] and "boat" in ask["en"] and "Dubai" in ask["en"]
    assert "دبئی" in ask["ur"] and "کشتی" in ask["ur"]


@pytest.mark.parametrize("text, question, kind", [
    ("they are giving me an azad visa", "azad_visa", "job"),
    ("free visa milega", "azad_visa", "job"),
    ("آزاد ویزا ہے", "azad_visa", "job"),
    ("agent told me what to say to immigration", "coached_answers", "job"),
    ("immigration pe kya kehna hai woh bata diya", "coached_answers", "study"),
    ("امیگریشن والوں کو یہ کہنا ہے کہ سیر کے لیے جا رہا ہوں", "coached_answers", "job"),
    ("no protector stamp needed he says", "protector", "job"),
    ("protector nahi lagega", "protector", "job"),
    ("contract on arrival", "written_offer", "job"),
    ("contract wahan ja kar sign hoga", "written_offer", "job"),
    ("کنٹریکٹ وہاں پہنچ کر ملے گا", "written_offer", "job"),
    ("only whatsapp contact, no office", "online_only", "job"),
    ("sirf whatsapp pe baat hoti hai", "online_only", "study"),
    ("I am 16 and got a job offer", "under_18", "job"),
    ("meri umar 17 saal hai", "under_18", "study"),
    ("میری عمر 16 سال ہے", "under_18", "job"),
    ("housemaid job in riyadh", "domestic_or_marriage", "job"),
    ("gharelu kaam ki naukri hai", "domestic_or_marriage", "job"),
    ("admission in georgia and then europe", "study_promises", "study"),
    ("wahan se aagay europe bhej denge", "study_promises", "study"),
])
def test_the_new_red_flags_are_read_from_the_description(text, question, kind):
    assert prefilled(text, kind).get(question) == CHECK.by_id[question].flag


def test_questions_apply_to_their_kind_and_the_intro_quotes_the_real_count():
    job = {q.id for q in CHECK.applicable("job")}
    study = {q.id for q in CHECK.applicable("study")}
    assert {"protector", "azad_visa", "domestic_or_marriage", "fee_above_cap"} <= job - study
    assert {"study_promises", "fee_to_consultant"} <= study - job
    assert {"under_18", "coached_answers", "online_only", "irregular_route", "written_offer"} <= job & study
    for kind in ("study", "job"):
        count = CONTENT.question_count(kind)
        assert count == CHECK.count(kind) == len(CHECK.applicable(kind))
        for lang in ("en", "ur", "ur-Latn"):
            intro = CONTENT.answer(f"check_{kind}_offer", lang)
            assert f" {count} " in intro and "{questions" not in intro, (kind, lang)
    help_text = CONTENT.answer("bot_capabilities", "ur")
    assert f"{CHECK.count('study')} سے {CHECK.count('job')}" in help_text


# -- conversations ---------------------------------------------------------------------------------------
STORIES = {
    # a description with negated and plain red flags; what the bot must note, what it must not
    "en": ("Job in Saudi, agent is not registered and wants cash. It is not a dunki, flight via Dubai.",
           {"verified", "personal_account"}, {"irregular_route"}),
    "ur-Latn": ("Saudi mein naukri hai, agent ka licence nahi hai aur cash mangta hai. Boat se nahi jana, visit visa nahi hai",
                {"verified", "personal_account"}, {"irregular_route", "visit_visa_work"}),
    "ur": ("سعودیہ میں نوکری ہے، ایجنٹ کا لائسنس نہیں ہے اور نقد پیسے مانگتا ہے۔ یہ ڈنکی نہیں ہے، کشتی سے نہیں جانا",
           {"verified", "personal_account"}, {"irregular_route"}),
}
HIGH = {"en": "High risk", "ur": "زیادہ خطرہ", "ur-Latn": "Zyada khatra"}
UNCLEAR = {"en": "Too much is unknown", "ur": "اس پیشکش کو جانچنے", "ur-Latn": "Is offer ko jaanchne"}


@pytest.mark.parametrize("lang", ["en", "ur", "ur-Latn"])
def test_a_conversation_per_language(languages, lang):  # noqa: F811
    dialogue, nlu, store = make(languages)
    content = store.get()
    user = f"story-{lang}"
    text, noted, not_noted = STORIES[lang]
    turn = run(dialogue.handle_text(user, nlu.says(text, "check_job_offer")))
    assert turn.language == lang
    flow = dialogue.states.get(user).flow
    assert set(flow["prefilled"]) == noted, flow["prefilled"]
    assert not not_noted & set(flow["answers"])
    shown = "\n".join(r.text for r in turn.replies)
    for qid in noted:
        assert content.render(content.pick(variant(CHECK.by_id[qid].reason, "job"), lang), lang) in shown
    asked = []
    for _ in range(30):
        last = turn.replies[-1]
        payloads = {b.payload: b.label for row in last.buttons for b in row}
        question = next((p.split(":")[2] for p in payloads if p.startswith("oc:yes:")), None)
        if question is None:
            break
        asked.append(question)
        if question == "written_offer":  # the buttons say what they mean, in the user's language
            assert payloads["oc:yes:written_offer"] == content.pick(CHECK.by_id[question].label("yes", "job"), lang)
        turn = run(dialogue.handle_button(user, f"oc:{safe_answer(dialogue, question)}:{question}"))
    assert not noted & set(asked) and "irregular_route" in asked
    assert len(asked) == CHECK.count("job") - len(noted)
    result = turn.replies[-1]
    assert result.text.startswith(HIGH[lang]), result.text
    combination = CHECK.combinations[0]
    assert content.pick(variant(combination.reason, "job"), lang) in result.text  # why it is high
    assert any(b.payload == "act:pass_check" for row in result.buttons for b in row)
    check = dialogue.states.get(user).data["last_offer_check"]
    assert check["level"] == "high" and "unlicensed_cash" in check["breakdown"][-1]


@pytest.mark.parametrize("lang", ["en", "ur", "ur-Latn"])
def test_not_sure_everywhere_ends_with_find_out_first(languages, lang):  # noqa: F811
    dialogue, nlu, store = make(languages)
    user = f"unsure-{lang}"
    run(dialogue.handle_button(user, f"lang:{lang}"))
    turn = run(dialogue.handle_text(user, "/check"))
    turn = run(dialogue.handle_button(user, "oc:kind:study"))
    for _ in range(30):
        payloads = [b.payload for row in turn.replies[-1].buttons for b in row]
        question = next((p.split(":")[2] for p in payloads if p.startswith("oc:unsure:")), None)
        if question is None:
            break
        turn = run(dialogue.handle_button(user, f"oc:unsure:{question}"))
    result = strip_bidi(turn.replies[-1].text)
    assert result.startswith(UNCLEAR[lang]) and not result.startswith(HIGH[lang])
    assert not any(b.payload == "act:pass_check" for row in turn.replies[-1].buttons for b in row)
    content = store.get()
    reason = content.pick(variant(CHECK.by_id["study_promises"].reason, "study"), lang)
    assert reason in result  # the unknowns are listed: what to find out


def test_a_check_open_across_a_content_edit_goes_on(languages):  # noqa: F811
    """A user in the middle of a check whose question an edit removed (unverified became verified) gets the
    current questions; the old button does not break the turn."""
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_text("edit", "/check"))
    run(dialogue.handle_button("edit", "oc:kind:job"))
    state = dialogue.states.get("edit")
    state.flow["asking"] = "unverified"
    state.flow["answers"]["no_written_contract"] = "yes"
    dialogue.states["edit"] = state
    turn = run(dialogue.handle_button("edit", "oc:yes:unverified"))
    assert "oc:yes:under_18" in [b.payload for row in turn.replies[-1].buttons for b in row]
    turn = run(dialogue.handle_text("edit", nlu.says("yes", "affirm")))
    assert dialogue.states.get("edit").flow["answers"]["under_18"] == "yes"
