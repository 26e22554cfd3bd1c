"""The danger safety net: fires on danger now, in three languages, even when the classifier is wrong;
stays quiet on ordinary questions that mention a passport, a boat or money."""
import pytest

from bot.config import ROOT
from bot.safety import DangerLexicon, DangerNet
from bot.understanding import NLUResult

LEXICON = ROOT / "content" / "safety" / "danger_lexicon.yml"


@pytest.fixture(scope="module")
def net():
    return DangerNet.from_file(LEXICON)


def wrong(intent="irregular_route", emergency=0.0):
    """The classifier's guess, wrong, with a given emergency probability."""
    ranking = [(intent, 0.9 - emergency)] + ([("emergency", emergency)] if emergency else [])
    return NLUResult(intent, 0.9 - emergency, ranking)


@pytest.mark.parametrize("text", [
    "they locked my brother in a room in Tripoli",
    "the boat is sinking near greece please",
    "the smugglers are beating us every night",
    "my son says they will kill him if we dont pay",
    "mere bhai ko kamre mein band kar diya hai libya mein",
    "wo log hamain maar rahe hain, bachao",
    "bhai ko jaan se maarne ki dhamki de rahe hain",
    "میرے بیٹے کو کمرے میں بند کر دیا ہے",
    "وہ لوگ ہمیں مار رہے ہیں",
    "کشتی ڈوب رہی ہے",
    # round 2 (three languages each)
    # bought, owned
    "the family that bought me says I cannot go home",
    "unhon ne hamein khareeda hai aur kehte hain tum hamari property ho",
    "انہوں نے ہمیں خریدا ہے اور کہتے ہیں تم ہماری ملکیت ہو",
    # bones broken
    "if he runs again they will break his legs",
    "bhaage to haddiyan tor denge, ye keh rahe hain",
    "کہتے ہیں بھاگے تو ٹانگیں توڑ دیں گے",
    # a weapon pointed
    "the driver is pointing a gun at the boys in the back",
    "driver larkon par pistol taane khara hai",
    "ڈرائیور لڑکوں پر پستول تانے کھڑا ہے",
    # photos, a body
    "pay or they will send the videos to our relatives",
    "paise na diye to tasveeren viral kar denge",
    "پیسے نہ دیے تو تصویریں وائرل کر دیں گے",
    "the caller said next time we will get his body",
    "bole agli baar uski laash milegi",
    "کہا اگلی بار اس کی لاش ملے گی",
    # confinement: not allowed out
    "we are not allowed outside the compound",
    "ہمیں باہر نہ جانے دیتے ہیں",
    # an idiom does not hide a strong present danger
    "they beat me every day lol, please help",
    "wo roz mujhe maarte hain haha, madad karo",
    "وہ مجھے روز مارتے ہیں ہاہا، مدد کریں",
    # a past date does not hide a strong phrase
    "I came to Riyadh in 2023 and the employer keeps me locked in the house",
    "main 2023 mein aaya tha, malik ne mujhe kamre mein band kar rakha hai",
    "میں 2023 میں آیا تھا، مالک نے مجھے کمرے میں بند کر رکھا ہے",
    # confinement, a death in the group
    "they keep us in a basement and took all our phones",
    "darwaza bahar se band hai, hum andar hain",
    "دروازہ باہر سے بند ہے، ہم اندر ہیں",
    "one of us died last night and they still make us walk",
    "hum mein se ek doob gaya, boat abhi bhi chal rahi hai",
    "ہم میں سے ایک مر گیا ہے، وہ ہمیں آگے لے جا رہے ہیں",
    # a threat to finish someone off
    "the caller says they will finish my father if we go to the police",
    "kehte hain abbu ko khatam kar denge agar police ko bataya",
    "کہتے ہیں ابو کو ختم کر دیں گے اگر پولیس کو بتایا",
])
def test_strong_phrases_make_it_urgent_whatever_the_classifier_says(net, text):
    verdict = net.assess(text, wrong())
    assert verdict.urgent and verdict.source == "lexicon" and verdict.kind == "strong", (text, verdict)


@pytest.mark.parametrize("text", [
    "the agent wants my passport for visa processing, is that normal?",
    "is the boat route from libya to italy dangerous?",
    "agent is asking 5 lakh upfront for a job in saudi, is that legal",
    "agent passport mang raha hai, dena chahiye?",
    "کیا ایجنٹ کو پاسپورٹ دینا ٹھیک ہے؟",
    "what happens if someone is kidnapped abroad, who helps?",
    "my account is locked, how do i reset it",
    "kya kashti wala rasta mehfooz hai",
    "mera data delete kar do",
    "bachon ko bahar bhejne se pehle walidain kya check karein",
])
def test_ordinary_questions_do_not_fire(net, text):
    assert not net.assess(text, wrong("passport_documents")).urgent


def test_an_ambiguous_word_asks_alone_and_is_urgent_with_the_classifier(net):
    text = "my brother has gone missing near the border"
    alone = net.assess(text, wrong(emergency=0.0))
    assert not alone.urgent and alone.ask and alone.matched
    supported = net.assess(text, wrong(emergency=0.2))
    assert supported.urgent and supported.source == "lexicon+classifier" and not supported.ask


def test_supporting_words_only_back_the_classifier(net):
    text = "the smugglers at the border"
    assert not net.assess(text, wrong(emergency=0.2)).urgent
    assert net.assess(text, wrong(emergency=0.35)).urgent  # at least `context` sure
    backed = net.assess(text, NLUResult("emergency", 0.3, [("emergency", 0.3), ("irregular_route", 0.25)]))
    assert backed.urgent and backed.source == "lexicon+classifier"


def test_a_general_question_is_not_urgent_even_with_a_strong_phrase(net):
    text = "what happens if they locked him in a room abroad"
    assert net.lexicon.scan(text).strong  # the phrase is there ...
    verdict = net.assess(text, wrong(emergency=0.3))
    assert not verdict.urgent and not verdict.ask and verdict.general_question  # ... but it is a question
    sure = net.assess(text, NLUResult("emergency", 0.8, [("emergency", 0.8)]))
    assert not sure.urgent and sure.ask  # the classifier is sure: asked, never alarmed


def test_a_present_cue_keeps_the_urgency_of_a_general_question(net):
    text = "my brother is locked in a room right now, what happens if we call the police"
    assert net.assess(text, wrong()).urgent


def test_classifier_emergency_needs_confidence_or_a_danger_word(net):
    sure = net.assess("please call me", NLUResult("emergency", 0.7, [("emergency", 0.7)]))
    assert sure.urgent and sure.source == "classifier"
    unsure = NLUResult("emergency", 0.3, [("emergency", 0.3), ("out_of_scope", 0.25)])
    assert not net.assess("fix my washing machine", unsure).urgent
    backed = net.assess("my brother is missing since friday", unsure)
    assert backed.urgent and backed.source == "lexicon+classifier"


def test_roman_urdu_spelling_variants():
    from bot.safety import compile_phrase, prepared

    def same(phrase, word):
        return compile_phrase(phrase, "ur-Latn").search(*prepared(word))

    for phrase, word in (("rahe", "rhe"), ("rahe", "rahay"), ("maar", "mar"), ("hai", "hay"), ("kar", "kr"),
                         ("dete", "dety"), ("khatra", "khatrah"), ("dhamki", "dhamkki"), ("nahi", "nhi")):
        assert same(phrase, word) and same(word, phrase) or same(phrase, word), (phrase, word)
    for phrase, word in (("mar", "mera"), ("mar", "meri"), ("maar", "mere"), ("band", "bandar"), ("kaat", "kaata")):
        assert not same(phrase, word), (phrase, word)


def test_phrase_syntax_gap_prefix_exact_sets():
    lexicon = DangerLexicon.from_yaml("""
sets:
  kin: {en: [brother, my sister], ur-Latn: [bhai]}
strong:
  en: [held ~ basement, kidnap*, holding @kin, threats ~~ family]
  ur-Latn: [=bachao, band kar, "@kin ko ~ maar", chor_rahe nahi]
  ur: [بے ہوش]
""")
    scan = lambda t: lexicon.scan(t).strong
    assert scan("they held him in a basement")  # a gap of three words
    assert not scan("they held my two brothers in a basement")  # five: too far apart
    assert scan("threats against me and my whole family")  # ~~: up to eight
    assert scan("he got kidnapped")
    assert scan("they are holding my sister") and scan("holding brother")
    assert scan("bachao") and not scan("bacho ko")
    assert scan("bnd kr diya") and scan("band kar diya")
    assert scan("bhai ko roz maar rahe hain") and not scan("bhai ko roz marna")
    assert scan("chor rahe nahi")
    assert scan("وہ بے ہوش ہے") and scan("وہ بےہوش ہے") and scan("وہ بے\u200cہوش ہے")  # space, none, ZWNJ


def test_a_prefix_stem_must_be_long_enough():
    from bot.safety import PhraseError
    with pytest.raises(PhraseError):
        DangerLexicon.from_yaml("strong:\n  en: [ma*]\n")
    with pytest.raises(PhraseError):
        DangerLexicon.from_yaml("strong:\n  en: ['@nosuchset']\n")


@pytest.mark.parametrize("text", [
    "mera naam ali hai aur meri umar 20 saal hai",  # mar/maar never inside mera, meri
    "meri behan ka visa kab tak aayega",
    "company tankhwa se 5000 kaat legi, kya ye theek hai",  # kaat: a salary deduction
    "salary se paise kaat lete hain har mahine",
    "log is raste mein kyun mar jate hain",
    "marketing job in dubai, is the agent real",  # mar-
    "my account is locked, how do i reset it",
    "notifications band kar do please",  # band: switch off
    "the agent wants to sell me a visa for 8 lakh",
    "I am drowning in debt because of the agent fee",
    "agent ki chupi hui fees hain kya",  # hidden fees, not people hiding
    "germany mein parhne ke liye mara ja raha hun",  # "dying to"
])
def test_no_prefix_or_look_alike_matches(net, text):
    scan = net.lexicon.scan(text)
    assert not scan.strong, scan.strong
    assert not net.assess(text, wrong("agent_fees")).urgent


@pytest.mark.parametrize("text", [
    "is the boat route from libya to italy dangerous?",
    "how can i stay safe if i travel through iran",
    "why do so many people die on the dunki route",
    "what is the punishment for smugglers who kill migrants",
    "what happens if someone gets kidnapped in libya",
    "kya boat se italy jana khatarnak hai?",
    "iran ke raste safar mein kaise mehfooz rahein",
    "is raste pe log kyun marte hain",
    "insani smuggling ki saza kya hai",
    "agar kisi ko libya mein kidnap kar lein to kya hota hai",
    "کیا کشتی سے یورپ جانا خطرناک ہے؟",
    "ایران کے راستے میں کیسے محفوظ رہیں؟",
    "اس راستے پر لوگ کیوں مرتے ہیں؟",
    "انسانی اسمگلنگ کی سزا کیا ہے؟",
    "اگر کسی کو لیبیا میں اغوا کر لیا جائے تو کیا ہوتا ہے؟",
    "mera visa do mahine se embassy mein phansa hua hai kya karun",  # a thing stuck, not a person
    "میرا ویزا دو مہینے سے ایمبیسی میں پھنسا ہوا ہے، کیا کروں؟",
    "my parents will kill me if I fail the ielts lol",
])
def test_general_questions_about_danger_are_not_urgent(net, text):
    verdict = net.assess(text, wrong("irregular_route", emergency=0.2))
    assert not verdict.urgent, verdict


@pytest.mark.parametrize("text", [
    "he beats him every day and takes his salary",
    "the madam hits her and keeps her locked in the kitchen",
    "they have been holding my cousin for a week",
    "my sister was sold to another agent in oman",
    "they kidnapped my husband and want ransom",
    "we are in a container and can't breathe",
    "wo usay roz maarta hai",
    "unhon ne mere bhai ko band kar rakha hai",
    "mere cousin ko kal kidnap kar liya",
    "kashti doob rahi hai",
    "وہ اسے روز مارتا ہے",
    "انہوں نے میرے بھائی کو گودام میں بند کر رکھا ہے",
    "میرے کزن کو اغوا کر لیا گیا ہے",
])
def test_third_person_and_habitual_danger_is_urgent(net, text):
    verdict = net.assess(text, wrong("victim_support"))
    assert verdict.urgent and verdict.source == "lexicon", (text, verdict)


@pytest.mark.parametrize("text, urgent", [
    ("my brother is held in a room in libya and they want money, is this trafficking?", True),
    ("is it trafficking if workers are locked in a room at night?", False),
    ("mere bhai ko kamre mein band kar rakha hai, kya ye trafficking hai?", True),
    ("logon ko kamre mein band kar ke rakhna trafficking mein aata hai?", False),
    ("میرے بھائی کو کمرے میں بند کر رکھا ہے، کیا یہ ٹریفکنگ ہے یا اسمگلنگ؟", True),
    ("لوگوں کو کمرے میں بند کر کے رکھنا ٹریفکنگ ہے یا اسمگلنگ؟", False),
])
def test_a_question_about_a_situation_stays_urgent_when_it_is_the_users(net, text, urgent):
    assert net.assess(text, wrong("define_trafficking")).urgent == urgent, text


def test_a_danger_that_is_over_is_not_urgent(net):
    for text in ("my uncle was kidnapped in libya two years ago and released, now he needs counselling",
                 "beta do saal pehle libya mein qaid tha, ab ghar aa gaya hai, counselling chahiye",
                 "بیٹا لیبیا میں قید سے چھوٹ کر آیا تھا، اب بھی رات کو ڈرتا ہے"):
        assert not net.assess(text, wrong("victim_support")).urgent, text


@pytest.mark.parametrize("text, over", [
    ("ab ghar mein qaid hain hum, bahar nahi jane dete", False),  # held at home NOW: not "back home"
    ("unhon ne meri behen ko ab ghar mein band kar rakha hai", False),
    ("اب گھر میں بند ہیں، باہر نہیں جانے دیتے", False),
    ("mere mamu 2012 me libya me kidnap hue the, ab alhamdulillah ghar pe hain", True),
    ("بھائی لیبیا میں پکڑا گیا تھا، اب گھر میں ہے", True),
])
def test_now_at_home_is_over_but_now_held_at_home_is_not(net, text, over):
    assert bool(net.lexicon.scan(text).over) == over, text
    if not over:
        assert net.assess(text, wrong()).urgent, text


def test_the_verdict_says_what_fired(net):
    verdict = net.assess("they are beating us", wrong(emergency=0.12))
    described = verdict.describe()
    assert "p(emergency) 0.12" in described and "beat/" in described and len(described) <= 200


def test_editing_the_lexicon_changes_behaviour(tmp_path):
    path = tmp_path / "lexicon.yml"
    path.write_text("strong:\n  en: [purple elephant]\n", encoding="utf-8")
    net = DangerNet.from_file(path)
    assert net.assess("a purple elephant is here", wrong()).urgent
    assert not net.assess("they locked me in a room", wrong()).urgent


def test_lexicon_alone_rarely_fires_on_heldout_non_emergencies(net, heldout):
    others = [e for rows in heldout.values() for e in rows if e.intent != "emergency"]
    fired = [e.text for e in others if net.assess(e.text, wrong(e.intent)).urgent]
    assert len(fired) / len(others) <= 0.01, fired


# -- round 2 mechanisms ---------------------------------------------------------------------------
def sure(emergency: float) -> NLUResult:
    """The classifier puts `emergency` first with this probability."""
    return NLUResult("emergency", emergency, [("emergency", emergency), ("victim_support", (1 - emergency) / 2)])


@pytest.mark.parametrize("text", [
    "my laptop died right now in the middle of my visa form, lol",
    "today the exam killed me, can I still apply for a student visa",
    "aaj interview ne maar diya yaar, kya dobara apply kar sakta hun",
    "mera mobile abhi band ho gaya, agent ka number kahan milega",
    "آج امتحان نے مار دیا، کیا دوبارہ داخلہ ہو سکتا ہے؟",
    "میرا فون ابھی بند ہو گیا، ایجنٹ کا نمبر کہاں ملے گا؟",
])
def test_an_idiom_takes_the_urgency_away_even_with_a_present_cue(net, text):
    verdict = net.assess(text, sure(0.9))
    assert not verdict.urgent and verdict.general_question and not verdict.ask, (text, verdict)


@pytest.mark.parametrize("text, joke", [
    ("not joking, they locked us in the room and the agent has our passports lol", "not joking"),
    ("ammi main mazaq nahi kar raha, malik ne hamein kamre mein band kar diya hai", "mazaq nahi"),
    ("یہ مذاق نہیں، انہوں نے ہمیں کمرے میں بند کر دیا ہے", "مذاق نہیں"),
])
def test_not_a_joke_cancels_the_idiom_cues(net, text, joke):
    """"not joking" and "mazaq nahi" match the idiom list's "joking"/"mazaq": the `serious` list takes that back."""
    scan = net.lexicon.scan(text)
    assert scan.idiom and scan.serious and not scan.not_now, (joke, scan)
    assert net.assess(text, wrong()).urgent, text
    without = text.replace(joke, "").strip(" ,،")
    assert not net.lexicon.scan(without).serious, without


@pytest.mark.parametrize("text", [
    "lol my mom will kill me if she sees my IELTS score",
    "mazaq mat karo yaar, ammi maar dengi",
    "مذاق مت کرو یار، امی مار ڈالیں گی",
])
def test_a_joke_without_not_stays_a_joke(net, text):
    assert net.lexicon.scan(text).not_now and not net.assess(text, sure(0.9)).urgent, text


@pytest.mark.parametrize("cue, text, result, urgent", [
    # a past date takes the classifier alone away
    ("past", "my father was a refugee in 1980, can I get his documents", sure(0.8), False),
    ("past", "abbu 1990 mein saudia gaye the, un ka record kaise milega", sure(0.8), False),
    ("past", "ابو ۱۹۹۰ میں سعودیہ گئے تھے، ان کا ریکارڈ کیسے ملے گا؟", sure(0.8), False),
    # an Urdu first person saying where they are held is present, even inside "agar ... to kya"
    ("present", "agar main uske ghar mein band hun to kya police aayegi", wrong(), True),
    ("present", "اگر میں اس کے گھر میں بند ہوں تو کیا پولیس آئے گی؟", wrong(), True),
    ("present", "do hafte ho gaye, agar hum yahan se na niklen to kya hoga, hamein kamre mein band rakha hai", wrong(), True),
])
def test_a_past_or_present_cue_decides(net, cue, text, result, urgent):
    assert getattr(net.lexicon.scan(text), cue), text
    assert net.assess(text, result).urgent == urgent, text


def test_year_digits_survive_the_roman_spelling():
    from bot.safety import prepared, roman_key
    assert roman_key("2011") == "2011" and roman_key("maar") == "mar"
    assert "2011" in prepared("sun 2011 mein")[1].split()


@pytest.mark.parametrize("text", [
    # the danger is over
    "my cousin was held by smugglers in Iran, he is back in Skardu now and wants to report them",
    "bhai Libya mein qaid tha, ab chhoot gaya hai, report kaise karein",
    "بھائی لیبیا میں قید تھا، اب واپس آیا ہے، رپورٹ کیسے کریں؟",
    # a general question
    "is the dunki route dangerous for boys from Hunza?",
    "kya dunki ka rasta khatarnak hai?",
    "کیا ڈنکی کا راستہ خطرناک ہے؟",
    # a question about a news story
    "truck mein dam ghutne wali khabar kab ki hai?",
    "ٹرک میں دم گھٹنے والی خبر کب کی ہے؟",
])
def test_an_over_or_general_cue_takes_the_classifiers_alarm_away(net, text):
    assert not net.assess(text, sure(0.9)).urgent, text


def test_the_classifier_alone_is_urgent_from_alone_and_asks_below(net):
    lex = net.lexicon
    text = "please, the men outside will not open the door for us"  # no phrase needed
    assert net.assess(text, sure(lex.alone)).urgent
    low = net.assess(text, sure((lex.alone + lex.ask) / 2))
    assert not low.urgent and low.ask
    assert not net.assess(text, sure(lex.ask / 2)).ask


@pytest.mark.parametrize("text", [
    "what does it mean that my sponsor says I was sold to him? I am not allowed out of the house",
    "mujhe kamre mein band kar rakha hai, iska matlab kya hai, kya ye trafficking hai",
    "مجھے کمرے میں بند کر رکھا ہے، اس کا مطلب کیا ہے؟",
])
def test_what_does_it_mean_about_ones_own_danger_stays_urgent(net, text):
    assert net.assess(text, wrong("define_trafficking")).urgent, text


@pytest.mark.parametrize("text", [
    "what does ransom mean",
    "tawan ka matlab kya hai",
    "تاوان کا مطلب کیا ہے؟",
])
def test_what_does_it_mean_alone_is_not_urgent(net, text):
    assert not net.assess(text, wrong("define_trafficking", emergency=0.3)).urgent, text


@pytest.mark.parametrize("text, asked", [
    # about the user: a danger may be told carefully as a hypothetical: asked
    ("what if I am locked in a room by my employer", True),
    ("agar mujhe kamre mein band kar diya jaye to kya karun", True),
    ("اگر مجھے کمرے میں بند کر دیا جائے تو کیا کروں؟", True),
    # about others: not even asked
    ("what if someone is locked in a container, how long can they survive", False),
    ("agar kisi ko kamre mein band kar dein to kya hota hai", False),
    ("اگر کسی کو کمرے میں بند کر دیں تو کیا ہوتا ہے؟", False),
])
def test_a_hypothetical_is_general_and_asked_only_when_it_is_the_users(net, text, asked):
    verdict = net.assess(text, wrong())
    assert not verdict.urgent and verdict.general_question and verdict.ask == asked, (text, verdict)


@pytest.mark.parametrize("text", [
    "the men at the gate have guns and the agent is gone",
    "gate pe jo log hain un ke paas bandooq hai",
    "گیٹ پر جو لوگ ہیں ان کے پاس بندوق ہے",
])
def test_armed_people_are_ambiguous(net, text):
    assert net.lexicon.scan(text).ambiguous, text
    assert net.assess(text, wrong(emergency=0.1)).urgent  # with the classifier's support
    alone = net.assess(text, wrong(emergency=0.0))
    assert not alone.urgent and alone.ask


@pytest.mark.parametrize("text, urgent_alone", [
    ("they said they won't leave him alive", True),
    ("kehte hain usay zinda nahi chorenge", True),
    ("کہتے ہیں اسے زندہ نہیں چھوڑیں گے", True),
    ("he said he will teach us a lesson tonight", False),
    ("agent keh raha hai ghar walon ko nuqsan pohnchayega", False),
    ("ایجنٹ کہہ رہا ہے گھر والوں کو نقصان پہنچائے گا", False),
])
def test_round_two_threats(net, text, urgent_alone):
    assert net.assess(text, wrong()).urgent == urgent_alone, text
    assert net.assess(text, wrong(emergency=0.1)).urgent, text  # ambiguous ones with the classifier's support


@pytest.mark.parametrize("text", [
    "no news of my brother, he is missing since the boat left",
    "bhai ki khabar nahi mil rahi, lapata hai",
    "بھائی کی خبر نہیں مل رہی، لاپتہ ہے",
])
def test_no_news_of_someone_is_not_a_question_about_the_news(net, text):
    verdict = net.assess(text, wrong(emergency=0.1))
    assert not verdict.general_question and verdict.urgent, (text, verdict)
