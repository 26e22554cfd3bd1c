"""The learning inbox (issue 20): grouping with counts, what never comes back (already in the training
data, ignored before), applying labelled examples to a copy of the training data in the repository's
exact format (parsed back by YAML: equal to the examples; removed from other intents), all or nothing."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pytest
import yaml
from sqlalchemy import select

from bot.config import ROOT
from bot.learning.group import cluster, normalize
from bot.learning.inbox import Review, candidate
from bot.learning.training import Labelled, TrainingIndex, annotate, parse_line, plan_apply, read_file, render
from bot.storage import learning_store
from bot.storage.db import LearningItemRow, make_engine

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def data_dir(tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(ROOT / "nlu" / "data", copy)
    return copy


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def add(engine, text, language="en", source="fallback", training=None, **nlu):
    row = candidate(text, language, source, training=training, **nlu)
    if row is None:
        return None
    with engine.begin() as conn:
        return learning_store.add_item(conn, row, NOW)


# -- grouping ------------------------------------------------------------------------------------------
def test_normalize_folds_case_spacing_punctuation_and_digits():
    assert normalize("Agent  wants 5 LAKH!!!") == normalize("agent wants 8 lakh") == "agent wants 0 lakh"
    assert normalize("ایجنٹ ۵ لاکھ مانگ رہا ہے؟") == normalize("ایجنٹ 8 لاکھ مانگ رہا ہے")
    assert normalize("visa?") != normalize("visa kya hai")


def test_cluster_joins_near_duplicates_per_language():
    rows = [(1, "en", normalize("is this agent real or fake"), 3), (2, "en", normalize("is this agent reall or fake??"), 2),
            (3, "en", normalize("weather in gilgit"), 1), (4, "ur-Latn", normalize("is this agent real or fake"), 1)]
    groups = cluster(rows)
    assert [(g.language, g.ids, g.count) for g in groups] == [("en", [1, 2], 5), ("en", [3], 1), ("ur-Latn", [4], 1)]


def test_same_text_is_one_row_with_a_count_and_groups_join(engine, data_dir):
    assert add(engine, "what is the weather in Hunza today") == "added"
    assert add(engine, "What is the weather in Hunza today??") == "counted"
    assert add(engine, "what is the wether in hunza today") == "added"  # near, not equal: its own row
    review = Review(engine, data_dir)
    groups = review.groups()
    assert len(groups) == 1 and groups[0].count == 3 and len(groups[0].ids) == 2


def test_redacted_before_it_is_stored(engine, data_dir):
    row = candidate("my name is Asif, call 0300-1234567 about the Dubai job", "en", "fallback", names=["Zainab"])
    with engine.begin() as conn:
        learning_store.add_item(conn, row, NOW)
        stored = conn.execute(select(LearningItemRow.__table__.c.text)).scalar_one()
    assert "Asif" not in stored and "1234567" not in stored and "Dubai job" in stored


def test_messages_in_the_training_data_never_come_in(engine, data_dir):
    example = read_file(data_dir / "en" / "agent_fees.yml")[5]
    training = TrainingIndex(data_dir)
    from bot.nlu.data import strip_annotations

    assert add(engine, strip_annotations(example).upper() + " ", training=training) is None
    assert Review(engine, data_dir).groups() == []


def test_rows_that_reached_the_training_data_later_leave_the_inbox(engine, data_dir):
    add(engine, "kya mujhe dubai me driver ki naukri mil sakti hai", "ur-Latn")
    review = Review(engine, data_dir)
    assert len(review.groups()) == 1
    path = data_dir / "ur-Latn" / "check_job_offer.yml"
    lines = read_file(path) + ["kya mujhe dubai me driver ki naukri mil sakti hai"]
    path.write_text(render("check_job_offer", lines), encoding="utf-8")
    assert review.groups() == []


def test_ignored_messages_never_come_back(engine, data_dir):
    add(engine, "tell me a joke about cricket please")
    add(engine, "tell me a joke about cricket plz")
    review = Review(engine, data_dir)
    [group] = review.groups()
    assert review.decide(group.ids, "ignore", "editor1") == 2
    assert review.groups() == []
    assert add(engine, "Tell me a joke about cricket, please!") == "known"  # the same text: refused at once
    add(engine, "tell me a joke about crickett please!!")  # near: stored, never listed
    assert review.groups() == []


def test_filters(engine, data_dir):
    add(engine, "agent se kaise bachein", "ur-Latn", intent="warning_signs", confidence=0.41,
        ranking=[("warning_signs", 0.41), ("verify_agent", 0.3)])
    add(engine, "weather kaisa hai", "ur-Latn", intent="out_of_scope", confidence=0.2)
    add(engine, "what is a protector stamp", "en", intent="safe_migration", confidence=0.55)
    review = Review(engine, data_dir)
    assert {g.leader["text"] for g in review.groups(language="ur-Latn")} == {"agent se kaise bachein", "weather kaisa hai"}
    assert [g.leader["text"] for g in review.groups(intent="warning_signs")] == ["agent se kaise bachein"]
    assert {g.leader["text"] for g in review.groups(max_confidence=0.45)} == {"agent se kaise bachein", "weather kaisa hai"}
    assert review.groups(since=datetime(2027, 1, 1, tzinfo=timezone.utc)) == []


# -- applying ------------------------------------------------------------------------------------------
def test_annotation_round_trip():
    example = Labelled("en", "agent_fees", "agent wants 8 lakh for Saudi [visa]", ((12, 18, "amount"), (23, 28, "country")))
    line = annotate(example)
    assert line == "agent wants [8 lakh](amount) for [Saudi](country) (visa)"
    assert parse_line(line) == ("agent wants 8 lakh for Saudi (visa)", example.entities)


def test_every_repo_file_renders_back_exactly():
    for path in sorted((ROOT / "nlu" / "data").glob("*/*.yml")):
        if path.parent.name != "entities":
            assert render(path.stem, read_file(path)) == path.read_text(encoding="utf-8"), path


def test_apply_writes_the_repo_format_and_removes_from_other_intents(engine, data_dir):
    moved = read_file(data_dir / "ur-Latn" / "agent_fees.yml")[3]  # an example of agent_fees, labelled otherwise
    from bot.nlu.data import strip_annotations

    review = Review(engine, data_dir)
    text = "agent ne 3 lakh liye aur ab phone nahi uthata"
    add(engine, text, "ur-Latn")
    [item] = review.groups()
    review.decide(item.ids, "label", "editor1", intent="report_suspect", entities={item.id: [[9, 15, "amount"]]})
    # a staff member relabels a message that is in the training data under another intent: apply moves it
    assert review.relabel(strip_annotations(moved), "ur-Latn", "visa_rules", "agent1", case_id=7) == "added"
    assert {g.leader["label"] for g in review.groups()} == {"report_suspect", "visa_rules"}
    before = {p: p.read_text(encoding="utf-8") for p in data_dir.rglob("*.yml")}
    applied = review.apply("supervisor1")
    assert applied.examples == 2 and applied.rows == 2 and applied.removed == 1
    assert sorted(applied.files) == ["ur-Latn/agent_fees.yml", "ur-Latn/report_suspect.yml", "ur-Latn/visa_rules.yml"]
    # parsed back by YAML: the examples, with their entities
    report = yaml.safe_load((data_dir / "ur-Latn" / "report_suspect.yml").read_text(encoding="utf-8"))
    assert report["version"] == "3.1" and report["nlu"][0]["intent"] == "report_suspect"
    lines = [line[2:] for line in report["nlu"][0]["examples"].splitlines()]
    assert "agent ne [3 lakh](amount) liye aur ab phone nahi uthata" in lines
    assert parse_line("agent ne [3 lakh](amount) liye aur ab phone nahi uthata") == (
        "agent ne 3 lakh liye aur ab phone nahi uthata", ((9, 15, "amount"),))
    visa = read_file(data_dir / "ur-Latn" / "visa_rules.yml")
    assert strip_annotations(moved) in visa
    assert moved not in read_file(data_dir / "ur-Latn" / "agent_fees.yml")
    # nothing else changed; changed files stay in the repo's format and order
    for path, text in before.items():
        if str(path.relative_to(data_dir)) not in applied.files:
            assert path.read_text(encoding="utf-8") == text
    for name in applied.files:
        path = data_dir / name
        assert render(path.stem, read_file(path)) == path.read_text(encoding="utf-8")
        keys = [strip_annotations(line).casefold() for line in read_file(path)]
        assert keys == sorted(keys)
    # applied: fingerprinted, listed no more, never back; a second apply does nothing
    assert review.groups() == [] and review.apply("supervisor1").examples == 0
    assert add(engine, "agent ne 3 lakh liye aur ab phone nahi uthata", "ur-Latn",
               training=TrainingIndex(data_dir)) is None


def test_apply_is_all_or_nothing(engine, data_dir, monkeypatch):
    review = Review(engine, data_dir)
    add(engine, "is a visit visa enough to work in Baku")
    [group] = review.groups()
    review.decide(group.ids, "label", "editor1", intent="visa_rules")
    before = (data_dir / "en" / "visa_rules.yml").read_text(encoding="utf-8")

    def broken(conn, *args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(learning_store, "fingerprint", broken)
    with pytest.raises(RuntimeError):
        review.apply("supervisor1")
    assert (data_dir / "en" / "visa_rules.yml").read_text(encoding="utf-8") == before
    assert [g.leader["status"] for g in review.groups()] == ["labelled"]
    monkeypatch.undo()
    assert review.apply("supervisor1").examples == 1
    assert "is a visit visa enough to work in Baku" in read_file(data_dir / "en" / "visa_rules.yml")


def test_out_of_scope_and_new_topic(engine, data_dir):
    review = Review(engine, data_dir)
    add(engine, "best biryani recipe in karachi")
    add(engine, "can I take my cat to Canada on a student visa")
    groups = {g.leader["text"]: g for g in review.groups()}
    review.decide(groups["best biryani recipe in karachi"].ids, "out_of_scope", "editor1")
    review.decide(groups["can I take my cat to Canada on a student visa"].ids, "new_topic", "editor1")
    assert [r["text"] for r in review.new_topics()] == ["can I take my cat to Canada on a student visa"]
    review.apply("admin1")
    assert "best biryani recipe in karachi" in read_file(data_dir / "en" / "out_of_scope.yml")
    assert all("cat to Canada" not in line for p in data_dir.rglob("*.yml") for line in read_file(p))


def test_plan_rejects_a_bad_intent_name(data_dir):
    with pytest.raises(ValueError):
        plan_apply(data_dir, [Labelled("en", "../../etc", "x")])
    with pytest.raises(ValueError):
        plan_apply(data_dir, [Labelled("en", "visa_rules", "abc", ((0, 9, "amount"),))])
