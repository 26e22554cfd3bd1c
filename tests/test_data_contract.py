"""The NLU data honours the contract: every intent, every language, enough examples, no leakage."""
import re
from collections import Counter

import yaml

from bot.config import ROOT
from bot.contract import load_contract
from bot.nlu.data import read_examples

CONFUSABLE = ["check_study_offer", "check_job_offer", "agent_fees", "passport_documents", "verify_agent",
              "report_suspect", "irregular_route", "parent_guidance", "emergency"]
SHARED = ROOT.parent / "shared" / "contracts" / "intents.yml"


def test_contract_copy_matches_shared():
    if not SHARED.is_file():
        import pytest
        pytest.skip("shared/ is not beside this checkout")
    assert (ROOT / "nlu" / "contract" / "intents.yml").read_text() == SHARED.read_text()


def test_every_intent_has_enough_examples_in_every_language():
    contract = load_contract()
    examples = read_examples(ROOT / "nlu" / "data")
    counts = Counter((e.lang, e.intent) for e in examples)
    for lang in contract.languages:
        for intent in contract.intents:
            minimum = 40 if intent in CONFUSABLE else 25
            assert counts[(lang, intent)] >= minimum, (lang, intent, counts[(lang, intent)])
    for lang in contract.languages:
        for intent in contract.finer:
            assert counts[(lang, intent)] >= 25, (lang, intent, counts[(lang, intent)])
    unknown = {e.intent for e in examples} - set(contract.intents) - set(contract.finer)
    assert not unknown, unknown


def test_finer_intents_come_out_under_their_contract_intent_and_reach_their_topic():
    """nlu/contract/finer.yml: each finer intent maps to a contract intent, keeps its escalation and has a topic
    that lists it and its contract intent."""
    from bot.contract import FINER_PATH
    from bot.dialogue.content import Content

    assert FINER_PATH.is_file()
    contract = load_contract()
    assert contract.finer, "no finer intent listed"
    content = Content(ROOT / "content")
    for intent, parent in contract.finer.items():
        assert parent in contract.intents and intent not in contract.intents, intent
        assert contract.name(intent) == parent
        assert contract.priority(intent) == contract.priority(parent), intent
        topic = content.topic_for(parent, "", detail=intent)
        assert topic is not None and intent in topic.intents and parent in topic.intents, (intent, topic)


def test_urdu_data_is_urdu_script_and_roman_urdu_is_latin():
    from bot.language import script_counts

    for example in read_examples(ROOT / "nlu" / "data"):
        arabic, latin = script_counts(example.text)
        if example.lang == "ur":
            assert arabic > latin, example
        else:
            assert arabic == 0, example
        assert not any("\u0900" <= c <= "\u097f" for c in example.text), f"Devanagari in {example}"


def test_heldout_never_seen_in_training(heldout):
    train = {e.text.lower() for e in read_examples(ROOT / "nlu" / "data")}
    for name, examples in heldout.items():
        leaked = [e.text for e in examples if e.text.lower() in train]
        assert not leaked, (name, leaked[:5])
        contract = load_contract()
        assert {e.intent for e in examples} <= set(contract.intents) | set(contract.finer), name
        assert {e.lang for e in examples} <= set(contract.languages), name


def test_rasa_files_parse_and_have_no_stray_annotations():
    for path in (ROOT / "nlu" / "data").rglob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["version"] == "3.1", path
        for item in data["nlu"]:
            for line in str(item.get("examples", "")).splitlines():
                text = line.strip()[2:]
                if "intent" in item:
                    assert not text.startswith("/"), (path, text)
                    assert "]{" not in text, (path, text)
                    for entity in re.findall(r"\]\(([^)]*)\)", text):
                        assert entity in ("country", "amount"), (path, text)


def test_every_country_and_amount_in_the_training_data_is_annotated():
    """Rasa's RegexEntityExtractor only extracts entities that occur annotated in the training data."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from annotate_entities import annotate, patterns

    pats = patterns()
    for path in (ROOT / "nlu" / "data").glob("*/*.yml"):
        if path.parent.name == "entities":
            continue
        item = yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"][0]
        for line in item["examples"].splitlines():
            text = line.strip()[2:]
            assert annotate(text, pats) == text or "](" in text, (path, text)
