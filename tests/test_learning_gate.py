"""The learning loop's decisions, without Rasa (issue 20): finetune or full training, and the gate's
limits, each on both sides of its edge. The whole loop with a real (tiny) model: tests/test_learning_loop.py."""
from __future__ import annotations

from dataclasses import replace

import pytest

from bot.config import Settings
from bot.nlu.lifecycle import Evaluation, compare, describe, format_report, plan


def scores(accuracy=0.95, en=0.95, ur=0.95, recall=1.0, false=0.01, near_recall=0.93, near_false=0.11):
    return {"intent_accuracy": accuracy, "per_language": {"en": en, "ur": ur}, "per_language_n": {"en": 100, "ur": 100},
            "per_intent": {"greet": {"f1": 0.9, "recall": 0.9, "precision": 0.9, "support": 10}},
            "urgent_recall": recall, "urgent_false_rate": false,
            "nearmiss": {"all": {"urgent_recall": near_recall, "false_urgent": near_false}}}


def gate(old: dict, new: dict, answers_old=None, answers_new=None) -> dict:
    return compare(Evaluation(old, answers_old or {}), Evaluation(new, answers_new or {}))


def failed(report: dict) -> set[str]:
    return {c["check"] for c in report["checks"] if not c["ok"]}


def test_the_same_scores_pass():
    assert gate(scores(), scores())["passed"]


@pytest.mark.parametrize("new, fails", [
    (scores(accuracy=0.946), set()),  # -0.4 points
    (scores(accuracy=0.944), {"intent accuracy"}),  # -0.6 points
    (scores(ur=0.941), set()),  # -0.9 points
    (scores(ur=0.939), {"accuracy ur"}),  # -1.1 points
    (scores(recall=0.99), {"urgent recall (held-out)"}),
    (scores(near_recall=0.92), {"urgent recall (near-miss)"}),
    (scores(false=0.02), set()),  # at the target
    (scores(false=0.021), {"false urgent (held-out)"}),
    (scores(near_false=0.11), set()),  # above the 3 % target already, and not rising
    (scores(near_false=0.12), {"false urgent (near-miss)"}),
])
def test_each_limit_on_both_sides_of_its_edge(new, fails):
    report = gate(scores(), new)
    assert failed(report) == fails and report["passed"] == (not fails)


def test_a_false_urgent_rate_below_its_target_may_rise_up_to_it():
    assert gate(scores(near_false=0.01), scores(near_false=0.03))["passed"]
    assert failed(gate(scores(near_false=0.01), scores(near_false=0.031))) == {"false urgent (near-miss)"}


def test_changed_answers_are_listed_worse_first():
    old = {"heldout\tx\ten\tgreet\thi": ["greet", None], "heldout\tx\ten\tthank\tcheers": ["greet", None],
           "heldout\tx\ten\tbye\tbye": ["goodbye", None], "nearmiss\tn\ten\tdanger\tlocked in": ["not urgent", None]}
    new = {"heldout\tx\ten\tgreet\thi": ["goodbye", None], "heldout\tx\ten\tthank\tcheers": ["thank", None],
           "heldout\tx\ten\tbye\tbye": ["goodbye", None], "nearmiss\tn\ten\tdanger\tlocked in": ["urgent", None]}
    report = gate(scores(), scores(), old, new)
    assert [(c["text"], c["verdict"]) for c in report["changed"]] == [
        ("hi", "worse"), ("cheers", "better"), ("locked in", "better")]
    assert report["summary"] == {"worse": 1, "better": 2}
    text = format_report(report)
    assert "gate: PASSED" in text and "worse" in text and "greet -> goodbye" in text


def write(project, lang, intent, texts):
    (project / "data" / lang).mkdir(parents=True, exist_ok=True)
    body = "\n".join(f"    - {t}" for t in texts)
    (project / "data" / lang / f"{intent}.yml").write_text(
        f'version: "3.1"\nnlu:\n- intent: {intent}\n  examples: |\n{body}\n', encoding="utf-8")


def test_finetune_only_when_just_examples_changed(tmp_path):
    project = tmp_path / "nlu"
    (project / "data" / "entities").mkdir(parents=True)
    (project / "config.yml").write_text("pipeline: []\n")
    (project / "data" / "entities" / "amount.yml").write_text("nlu: []\n")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "nlu.lock").write_text("rasa==3.6.21\n")
    write(project, "en", "greet", ["hi", "hello"])
    write(project, "ur-Latn", "greet", ["salam"])
    settings = replace(Settings(), root=tmp_path, nlu_project=project)
    first = describe(settings)
    assert first["examples"] == {"en": 2, "ur-Latn": 1} and first["intents"] == ["greet"]
    assert plan(first, describe(settings))[0] == "none"
    assert plan(None, first)[0] == "full"
    write(project, "en", "greet", ["hi", "hello", "hey there"])
    assert plan(first, describe(settings)) == ("finetune", "only examples changed")
    write(project, "en", "greet", ["hi", "hello", "I am in [Dubai](country)"])  # an entity type appears
    assert plan(first, describe(settings))[0] == "full"
    write(project, "en", "greet", ["hi", "hello", "hey there"])
    write(project, "en", "thank", ["thanks"])
    assert plan(first, describe(settings)) == ("full", "the intents changed")
    (project / "data" / "en" / "thank.yml").unlink()
    (project / "config.yml").write_text("pipeline: [{name: WhitespaceTokenizer}]\n")
    assert plan(first, describe(settings))[1] == "the pipeline or the NLU environment changed"
    (project / "config.yml").write_text("pipeline: []\n")
    (project / "data" / "entities" / "amount.yml").write_text("nlu: [{regex: amount}]\n")
    assert plan(first, describe(settings)) == ("full", "the entities changed")
