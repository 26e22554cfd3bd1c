"""The understanding service with a fake NLU: milliseconds, no Rasa."""
import asyncio

import pytest

from bot.config import ROOT
from bot.contract import load_contract
from bot.language import LanguageIdentifier
from bot.safety import DangerNet
from bot.understanding import Understander
from tests.fakes import KeywordNLU


@pytest.fixture(scope="module")
def parts():
    return (LanguageIdentifier.from_training_data(ROOT / "nlu" / "data"),
            DangerNet.from_file(ROOT / "content" / "safety" / "danger_lexicon.yml"), load_contract())


def understand(parts, nlu, text):
    return asyncio.run(Understander(nlu, *parts).understand(text))


def test_priorities_follow_the_contract(parts):
    nlu = KeywordNLU({"report": "report_suspect", "human": "ask_human", "fee": "agent_fees"})
    assert understand(parts, nlu, "I want to report this agent").priority == "high"
    assert understand(parts, nlu, "talk to a human please").priority == "normal"
    fee = understand(parts, nlu, "what fee is legal")
    assert fee.priority is None and fee.escalate is False


def test_safety_net_overrides_a_wrong_intent(parts):
    nlu = KeywordNLU({"libya": "irregular_route"})
    result = understand(parts, nlu, "they locked my brother in a room in libya")
    assert result.intent == "emergency" and result.priority == "urgent" and result.escalate
    out = result.as_contract_dict()
    assert out["safety_net"]["source"] == "lexicon"


def test_entities_are_reported_against_the_original_text(parts):
    # the fake sees the cleaned text (no zero-width space): offsets must come back to the original
    text = "agent\u200b wants 5 lakh rupees"
    cleaned_start = "agent wants ".__len__()
    nlu = KeywordNLU({"agent": "agent_fees"},
                     {"agent": [{"entity": "amount", "value": "5 lakh rupees", "start": cleaned_start, "end": cleaned_start + 13}]})
    result = understand(parts, nlu, text)
    ent = result.entities[0]
    assert text[ent["start"]:ent["end"]] == "5 lakh rupees"
    assert ent["number"] == 500000 and ent["currency"] == "PKR"


def test_empty_and_slash_and_emoji(parts):
    nlu = KeywordNLU({"emergency": "emergency", "thanks": "thank"})
    empty = understand(parts, nlu, "   \u200b ")
    assert empty.intent is None and empty.error == "empty message" and not nlu.seen
    slash = understand(parts, nlu, "/emergency")
    assert nlu.seen[-1] == "emergency"  # never the raw "/emergency"
    emoji = understand(parts, nlu, "🙏🙏")
    assert emoji.fallback and emoji.confidence <= 0.3
    assert slash.intent == "emergency"


def test_language_is_detected(parts):
    nlu = KeywordNLU({})
    assert understand(parts, nlu, "mujhe bahar jana hai kya karun").language == "ur-Latn"
    assert understand(parts, nlu, "مجھے باہر جانا ہے").language == "ur"
    assert understand(parts, nlu, "I want to go abroad").language == "en"


def test_unsure_emergency_without_danger_words_is_not_urgent(parts):
    class Unsure:
        async def parse(self, text):
            from bot.understanding import NLUResult
            return NLUResult("emergency", 0.3, [("emergency", 0.3), ("out_of_scope", 0.25)])

    result = understand(parts, Unsure(), "fix my washing machine")
    assert result.priority is None and result.intent == "out_of_scope" and result.fallback


class RankingNLU:
    """Answers every text with the same ranking (the model's raw intents, finer ones included)."""

    def __init__(self, ranking, fallback=False):
        self.ranking, self.fallback = ranking, fallback

    async def parse(self, text):
        from bot.understanding import NLUResult

        return NLUResult(self.ranking[0][0], self.ranking[0][1], list(self.ranking), [], self.fallback)


@pytest.fixture(scope="module")
def finer_parts(parts):
    """The trained finer intents (nlu/contract/finer.yml)."""
    return parts[0], parts[1], load_contract()


def test_a_finer_intent_comes_out_under_its_contract_intent(finer_parts):
    parts = finer_parts
    contract = parts[2]
    assert contract.finer["abroad_in_trouble"] == "victim_support"
    nlu = RankingNLU([("abroad_in_trouble", 0.40), ("victim_support", 0.35), ("passport_documents", 0.25)], True)
    result = understand(parts, nlu, "my employer in qatar has not paid me for four months")
    assert result.intent == "victim_support" and result.detail == "abroad_in_trouble"
    assert abs(result.confidence - 0.75) < 1e-9  # the two confidences added
    assert not result.fallback  # unsure only because the finer intent and its contract intent split the vote
    assert result.ranking[0][0] == "victim_support" and all(n in contract.intents for n, _ in result.ranking)
    assert result.as_contract_dict()["intent"] == "victim_support" and result.priority is None


def test_folding_can_change_the_top_intent_and_keeps_unsure_messages_unsure(finer_parts):
    parts = finer_parts
    # the finer intent's own contract intent wins once folded; the finer intent is still its detail
    nlu = RankingNLU([("agent_fees", 0.30), ("protector_offloading", 0.28), ("safe_migration", 0.27),
                      ("visa_rules", 0.15)], True)
    result = understand(parts, nlu, "do I need the protector stamp")
    assert result.intent == "safe_migration" and result.detail == "protector_offloading" and not result.fallback
    # a contract intent that beats its finer intent has no detail
    plain = understand(parts, RankingNLU([("privacy", 0.6), ("punishment_anonymity", 0.3), ("greet", 0.1)]),
                       "is this anonymous")
    assert plain.intent == "privacy" and plain.detail is None and not plain.fallback
    # folded and still below the threshold: unsure
    low = understand(parts, RankingNLU([("debt_bondage", 0.2), ("define_trafficking", 0.1), ("greet", 0.19),
                                        ("thank", 0.18), ("deny", 0.17), ("affirm", 0.16)], True), "peshgi")
    assert low.intent == "define_trafficking" and low.fallback


def test_the_safety_net_drops_the_finer_intent(finer_parts):
    parts = finer_parts
    nlu = RankingNLU([("abroad_in_trouble", 0.7), ("emergency", 0.2), ("victim_support", 0.1)])
    result = understand(parts, nlu, "they locked my brother in a room in libya and beat him")
    assert result.intent == "emergency" and result.priority == "urgent" and result.detail is None


def test_folding_never_takes_the_first_place_from_emergency_for_the_danger_net(finer_parts):
    parts = finer_parts
    # emergency is the model's first guess; two siblings folded together would outrank it
    nlu = RankingNLU([("emergency", 0.40), ("women_children", 0.30), ("parent_guidance", 0.30)])
    result = understand(parts, nlu, "my daughter sent one word, help, and her location, then her phone went off")
    assert result.safety.probability == 0.40
    assert result.intent == "emergency" and result.priority == "urgent", result
