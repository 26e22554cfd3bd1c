"""The learning loop's train, test and promote (issue 20), end to end with a TINY model: a project of a
few intents and examples and a small config written here, trained in seconds. One Rasa server runs the
model served; a client keeps parsing while the candidate is swapped in (PUT /model) and none of its
requests may fail; the new model understands a message the old one did not; a candidate trained on
wrong labels is refused by the gate; rollback brings the old model back."""
from __future__ import annotations

import asyncio
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import ROOT, Settings
from bot.nlu import lifecycle
from bot.nlu.client import NLUError, RasaNLU
from bot.nlu.train import current_model, read_active, train
from bot.storage import model_store as ms
from bot.storage.db import make_engine
from bot.storage.migrate import upgrade
from tests.conftest import free_port

pytestmark = pytest.mark.rasa

CONFIG = """recipe: default.v1
assistant_id: tiny
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
    analyzer: word
  - name: DIETClassifier
    epochs: 60
    number_of_transformer_layers: 0
    hidden_layers_sizes:
      text: [32]
    random_seed: 1
    entity_recognition: false
    constrain_similarities: true
    model_confidence: softmax
  - name: FallbackClassifier
    threshold: 0.45
policies: []
"""
DATA = {
    "en": {
        "greet": ["hello", "hi", "hello there", "hi friend", "good morning", "hey", "hey there", "good evening",
                  "hello hello", "morning friend"],
        "goodbye": ["bye", "goodbye", "see you", "see you later", "bye bye", "good night", "take care",
                    "see you soon", "bye for now", "later then"],
        "thank": ["thanks", "thank you", "thanks a lot", "many thanks", "thank you so much", "thanks friend",
                  "much appreciated", "thanks again", "thank you kindly", "appreciated"],
        "emergency": ["help me I am locked in a room", "they are beating me", "I am being held captive",
                      "please help they took my passport and locked me", "I am trapped and they hit me",
                      "someone is holding me against my will", "help I am locked inside",
                      "they beat my brother", "I am captive please help", "locked in and beaten"],
    },
    "ur-Latn": {
        "greet": ["assalam o alaikum", "salam", "aoa bhai", "salam kaise ho", "assalam alaikum bhai"],
        "goodbye": ["allah hafiz", "khuda hafiz", "phir milenge", "allah hafiz bhai", "chalo phir milte hain"],
        "thank": ["shukriya", "bohat shukriya", "jazakallah", "shukriya bhai", "meherbani"],
        "emergency": ["mujhe band kar diya hai madad", "woh mujhe maar rahe hain", "mujhe qaid kar rakha hai",
                      "madad karo mujhe band kiya hua hai", "woh mere bhai ko maar rahe hain"],
    },
}
HELDOUT = [("en", "greet", "hello my friend"), ("en", "greet", "hey good morning"),
           ("en", "goodbye", "bye see you"), ("en", "goodbye", "goodbye take care"),
           ("en", "thank", "thanks so much"), ("en", "thank", "thank you friend"),
           ("en", "emergency", "help they locked me in a room"), ("en", "emergency", "they are beating me please help"),
           ("ur-Latn", "greet", "salam bhai"), ("ur-Latn", "goodbye", "allah hafiz phir milenge"),
           ("ur-Latn", "thank", "bohat shukriya bhai"), ("ur-Latn", "emergency", "woh mujhe maar rahe hain madad")]
NEARMISS = [("en", "ordinary", "thanks for the help"), ("en", "danger", "they locked me in and beat me")]
NEW_PHRASE = "wassup yaar kya scene"  # words no training example has


def write_data(project: Path, data: dict) -> None:
    (project / "data" / "entities").mkdir(parents=True, exist_ok=True)
    for lang, intents in data.items():
        shutil.rmtree(project / "data" / lang, ignore_errors=True)
        (project / "data" / lang).mkdir(parents=True)
        for intent, texts in intents.items():
            lines = ['version: "3.1"', "nlu:", f"- intent: {intent}", "  examples: |"] + [f"    - {t}" for t in texts]
            (project / "data" / lang / f"{intent}.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def make_project(root: Path) -> Settings:
    project = root / "nlu"
    (project / "entities").mkdir(parents=True)
    (project / "entities" / "countries.txt").write_text("Narnia | narnia\n", encoding="utf-8")
    (project / "config.yml").write_text(CONFIG, encoding="utf-8")
    for name in ("endpoints.yml", "credentials.yml", "safesafar_batch.py", "nlu_lockstore.py"):
        shutil.copy(ROOT / "nlu" / name, project / name)
    write_data(project, DATA)
    (project / "heldout").mkdir()
    (project / "heldout" / "tiny.tsv").write_text(
        "lang\tintent\ttext\n" + "".join(f"{l}\t{i}\t{t}\n" for l, i, t in HELDOUT), encoding="utf-8")
    (project / "nearmiss").mkdir()
    (project / "nearmiss" / "tiny.tsv").write_text(
        "lang\tlabel\ttext\n" + "".join(f"{l}\t{i}\t{t}\n" for l, i, t in NEARMISS), encoding="utf-8")
    (root / "requirements").mkdir()
    shutil.copy(ROOT / "requirements" / "nlu.lock", root / "requirements" / "nlu.lock")
    url = f"http://127.0.0.1:{free_port()}"
    db = f"sqlite:///{root / 'test.db'}"
    upgrade(db)
    return replace(Settings.from_env(), root=root, nlu_project=project, nlu_data_dir=project / "data",
                   models_dir=root / "models", nlu_url=url, nlu_replicas=(url,), nlu_replica_models_dir="",
                   database_url=db, nlu_workers=1, nlu_timeout=10.0)


@pytest.fixture(scope="module")
def world(tmp_path_factory, monkeypatch_module):
    """The tiny project, its first model (`nlu train`) served by a Rasa server, and a database."""
    from bot.nlu.server import RasaProcess

    root = tmp_path_factory.mktemp("tiny")
    monkeypatch_module.setenv("RASA_MAX_CACHE_SIZE", "0")
    monkeypatch_module.setenv("RASA_CACHE_DIRECTORY", str(root / "rasa-cache"))
    settings = make_project(root)
    train(settings, if_needed=False)
    server = RasaProcess(settings, current_model(settings), settings.nlu_url, log_path=root / "rasa.log")
    server.start()
    try:
        server.wait_ready()
        engine = make_engine(settings.database_url)
        yield settings, engine
        engine.dispose()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def parse(settings: Settings, text: str):
    async def run():
        client = RasaNLU(settings.nlu_url, timeout=10)
        try:
            return await client.parse(text)
        finally:
            await client.aclose()
    return asyncio.run(run())


def test_a_candidate_trained_on_wrong_labels_is_refused(world):
    settings, engine = world
    swapped = {lang: {"greet": intents["goodbye"], "goodbye": intents["thank"], "thank": intents["greet"],
                      "emergency": intents["emergency"]} for lang, intents in DATA.items()}
    write_data(settings.nlu_project, swapped)
    try:
        job = ms.create_job(engine, "test")
        row = lifecycle.run_job(settings, engine, job, mode="full")
    finally:
        write_data(settings.nlu_project, DATA)
    assert row["status"] == "refused", lifecycle.format_report(row["report"])
    report = row["report"]
    assert not report["passed"]
    failed = {c["check"] for c in report["checks"] if not c["ok"]}
    assert "intent accuracy" in failed and "accuracy en" in failed
    assert report["summary"]["worse"] >= 4 and any(c["verdict"] == "worse" for c in report["changed"])
    with pytest.raises(lifecycle.PromotionRefused):
        lifecycle.promote(settings, engine, job, "test")
    assert lifecycle.serving(settings.nlu_url) == current_model(settings).name  # still the first model
    with engine.connect() as conn:  # the model served was recorded with its scores
        first = ms.active(conn)
    assert first["mode"] == "initial" and first["scores"]["intent_accuracy"] >= 0.9


def test_retrain_gate_promote_under_load_then_understood_then_rollback(world):
    settings, engine = world
    first = current_model(settings).name
    old = parse(settings, NEW_PHRASE)
    # teach the message to an intent the old model does not give it
    teach = next(i for i in ("thank", "goodbye", "greet") if i != old.intent)
    assert old.fallback or old.intent != teach
    data = {lang: {i: list(t) for i, t in intents.items()} for lang, intents in DATA.items()}
    data["ur-Latn"][teach] += [NEW_PHRASE, "wassup yaar", "kya scene yaar", "wassup bhai kya scene", "yaar wassup"]
    write_data(settings.nlu_project, data)

    job = ms.create_job(engine, "test")
    with pytest.raises(ms.JobRunning):  # one at a time
        ms.create_job(engine, "someone else")
    row = lifecycle.run_job(settings, engine, job, epoch_fraction=0.5)
    assert row["mode"] == "finetune" and row["base_model"] == first, row
    assert row["status"] == "passed", lifecycle.format_report(row["report"])
    assert row["data"]["examples"] == {"en": 40, "ur-Latn": 25}

    # a client keeps parsing (the bot's own client) while every replica swaps the model
    stop = threading.Event()
    counts = {"ok": 0, "failed": 0, "errors": []}

    def keep_parsing():
        async def run():
            client = RasaNLU(settings.nlu_url, timeout=settings.nlu_timeout, in_flight=1)
            texts = [t for _, _, t in HELDOUT]
            i = 0
            while not stop.is_set():
                try:
                    await client.parse(texts[i % len(texts)])
                    counts["ok"] += 1
                except NLUError as exc:
                    counts["failed"] += 1
                    counts["errors"].append(str(exc))
                i += 1
            await client.aclose()
        asyncio.run(run())

    thread = threading.Thread(target=keep_parsing)
    thread.start()
    try:
        while counts["ok"] < 20:
            stop.wait(0.05)
        before = counts["ok"]
        result = lifecycle.promote(settings, engine, job, "test")
        during = counts["ok"] - before
        stop.wait(1.0)
    finally:
        stop.set()
        thread.join(30)
    assert counts["failed"] == 0, counts["errors"][:5]
    assert counts["ok"] > before and during >= 0
    assert result["model"] == row["model_file"] and settings.nlu_url in result["replicas"]
    assert lifecycle.serving(settings.nlu_url) == row["model_file"]
    assert read_active(settings)["model"] == row["model_file"] == current_model(settings).name

    new = parse(settings, NEW_PHRASE)
    assert new.intent == teach and not new.fallback, new
    with engine.connect() as conn:
        assert ms.active(conn)["id"] == job
        assert ms.previous(conn)["model_file"] == first

    # rollback: one step, the first model again, the candidate kept
    back = lifecycle.rollback(settings, engine, "test")
    assert back["model"] == first and lifecycle.serving(settings.nlu_url) == first
    again = parse(settings, NEW_PHRASE)
    assert (again.intent, again.fallback) == (old.intent, old.fallback)
    with engine.connect() as conn:
        assert ms.get(conn, job)["status"] == "rolled_back"
    assert (settings.models_dir / row["model_file"]).is_file()
    # and forward again (a rolled-back model can be served again)
    lifecycle.promote(settings, engine, job, "test")
    assert parse(settings, NEW_PHRASE).intent == teach


def test_from_the_inbox_to_an_understood_message(world):
    """Issue 20's whole loop: a user's message falls back, lands in the learning inbox (bot/learning/),
    is labelled and applied to the training data, the model is retrained (finetune) and passes the gate,
    is promoted on the running server while a client parses, and the same message is now understood."""
    from bot.learning.inbox import Review, candidate
    from bot.learning.training import TrainingIndex
    from bot.services import build_understander
    from bot.storage import learning_store

    settings, engine = world
    messages = ["oye hoye chak de phatte", "chak de phatte yaar", "oye hoye yaar"]

    async def understand(texts):
        understander, client = build_understander(settings, settings.nlu_url)
        try:
            return [await understander.understand(t) for t in texts]
        finally:
            await client.aclose()

    before = asyncio.run(understand(messages))
    teach = next(i for i in ("goodbye", "thank", "greet") if all(r.intent != i for r in before))
    training = TrainingIndex(settings.nlu_data_dir)
    with engine.begin() as conn:  # what the conversation service does when a message falls back
        for text, res in zip(messages, before):
            row = candidate(text, "ur-Latn", "fallback", intent=res.intent, confidence=res.confidence,
                            ranking=res.ranking, training=training)
            assert row is not None and learning_store.add_item(conn, row, lifecycle_now()) == "added"
    review = Review(engine, settings.nlu_data_dir)
    groups = [g for g in review.groups() if g.leader["text"] in messages]  # near-identical ones grouped
    assert {g.leader["text"] for g in groups} | {t for g in groups for t in g.texts} == set(messages)
    for group in groups:
        review.decide(group.ids, "label", "reviewer", intent=teach)
    applied = review.apply("publisher")
    assert applied.examples == applied.rows == len(messages)
    assert all(m in (settings.nlu_data_dir / "ur-Latn" / f"{teach}.yml").read_text() for m in messages)

    job = ms.create_job(engine, "publisher")
    row = lifecycle.run_job(settings, engine, job, epoch_fraction=0.5)
    assert row["mode"] == "finetune" and row["status"] == "passed", lifecycle.format_report(row["report"])
    failures = []
    stop = threading.Event()

    def keep_parsing():
        async def run():
            client = RasaNLU(settings.nlu_url, timeout=settings.nlu_timeout, in_flight=1)
            while not stop.is_set():
                try:
                    await client.parse("hello there")
                except NLUError as exc:
                    failures.append(str(exc))
            await client.aclose()
        asyncio.run(run())

    thread = threading.Thread(target=keep_parsing)
    thread.start()
    try:
        lifecycle.promote(settings, engine, job, "publisher")
    finally:
        stop.set()
        thread.join(30)
    assert failures == []
    after = asyncio.run(understand(messages))
    assert [r.intent for r in after] == [teach] * len(messages), after


def lifecycle_now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)
