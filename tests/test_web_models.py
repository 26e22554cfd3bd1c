"""The console's NLU models page (issue 20): retrain starts one job at a time (its state in the database,
so a reload shows it), the progress and the report are shown, the history has its chart, promotion and
rollback are refused when there is nothing to do, every action is audit-logged. The training, the gate
and the swap themselves run for real in tests/test_learning_loop.py. SQLite and PostgreSQL (db_url)."""
from __future__ import annotations

import base64
import os
from datetime import timedelta

from bot.storage import model_store as ms
from tests.web_support import Harness, rows
from bot.web import store

REPORT = {"passed": False, "summary": {"better": 1, "worse": 1},
          "checks": [{"check": "intent accuracy", "old": 0.95, "new": 0.90, "limit": 0.945, "ok": False},
                     {"check": "false urgent (held-out)", "old": 0.01, "new": 0.01, "limit": 0.02, "ok": True,
                      "max": True}],
          "per_language": [{"lang": "ur", "n": 3, "old": 1.0, "new": 0.5}],
          "per_intent": [{"intent": "greet", "support": 3, "old_f1": 1.0, "new_f1": 0.5, "old_recall": 1.0,
                          "new_recall": 0.5}],
          "changed": [{"set": "heldout/x", "lang": "ur", "expected": "greet", "text": "السلام علیکم <b>",
                       "old": "greet", "new": "goodbye", "old_priority": None, "new_priority": None,
                       "verdict": "worse"},
                      {"set": "heldout/x", "lang": "en", "expected": "thank", "text": "cheers mate",
                       "old": "greet", "new": "thank", "old_priority": None, "new_priority": None,
                       "verdict": "better"}]}


def scores(accuracy: float, recall: float) -> dict:
    return {"intent_accuracy": accuracy, "urgent_recall": recall, "per_language": {"en": accuracy},
            "nearmiss": {"all": {"urgent_recall": recall - 0.05, "false_urgent": 0.1}}}


def test_retrain_starts_one_job_and_the_page_follows_it(console: Harness):
    client = console.as_staff("sup", "supervisor")
    page = client.get("/nlu/models")
    assert page.status_code == 200 and 'action="/nlu/retrain"' in page.text and "No retraining yet" in page.text
    token = console.token(client, "/nlu/models")
    response = client.post("/nlu/retrain", data={"csrf": token})
    assert response.status_code == 303 and response.headers["location"] == "/nlu/models?done=started"
    assert console.launched == [(1, "auto")]
    with console.engine.connect() as conn:
        job = ms.running_job(conn)
    assert job["id"] == 1 and job["status"] == "queued" and job["requested_by"] == "sup"
    # a second click, or another person's: refused while the first runs
    other = console.as_staff("admin1", "admin")
    again = other.post("/nlu/retrain", data={"csrf": console.token(other, "/nlu/models"), "mode": "full"})
    assert again.status_code == 409 and "one at a time" in again.text
    assert console.launched == [(1, "auto")]
    # the worker reports its progress in the database; any page shows it, and reloads itself
    ms.update_job(console.engine, 1, status="training", stage="training", progress=0.42, pid=os.getpid())  # alive
    page = other.get("/nlu/models")
    assert 'id="job-progress" data-status="training"' in page.text and "42%" in page.text
    assert '<meta http-equiv="refresh"' in page.text and 'action="/nlu/retrain"' not in page.text
    actions = [r.action for r in rows(console.engine, store.audit_t) if r.action.startswith("nlu_")]
    assert actions == ["nlu_retrain"]


def test_a_queued_job_whose_process_never_started_is_failed_and_frees_the_slot(console: Harness):
    client = console.as_staff("sup", "supervisor")
    token = console.token(client, "/nlu/models")
    client.post("/nlu/retrain", data={"csrf": token})
    console.clock.advance(minutes=3)
    page = client.get("/nlu/models")
    assert 'data-status="failed"' in page.text and 'action="/nlu/retrain"' in page.text
    assert client.post("/nlu/retrain", data={"csrf": token, "mode": "full"}).status_code == 303
    assert console.launched == [(1, "auto"), (2, "full")]


def test_report_history_chart_and_refusals(console: Harness):
    engine = console.engine
    with engine.begin() as conn:
        first = ms.add_initial(conn, "nlu-aaaa.tar.gz", "langid-aaaa.json", "aaaa", {"examples": {"en": 10}},
                               scores(0.95, 1.0), now=console.clock.now)
    second = ms.create_job(engine, "sup", now=console.clock.now + timedelta(minutes=1))
    ms.update_job(engine, second, status="refused", stage="done", mode="finetune", model_file="nlu-bbbb-r2.tar.gz",
                  data={"examples": {"en": 12, "ur": 3}}, scores=scores(0.90, 1.0), report=REPORT, train_seconds=75.0)
    client = console.as_staff("sup", "supervisor")
    page = client.get("/nlu/models")
    assert page.status_code == 200
    assert f'href="/nlu/models/{second}"' in page.text and "en 12 · ur 3" in page.text and "75 s" in page.text
    chart = page.text.split('id="chart"')[0].rsplit('src="', 1)[1].split('"', 1)[0]
    svg = base64.b64decode(chart.removeprefix("data:image/svg+xml;base64,")).decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "urgent recall" in svg
    assert "rollback-form" not in page.text  # nothing served before the first model

    report = client.get(f"/nlu/models/{second}")
    assert report.status_code == 200
    assert 'data-ok="0"' in report.text and "intent accuracy" in report.text
    assert 'data-verdict="worse"' in report.text and "&lt;b&gt;" in report.text and "<b>" not in report.text.split(
        'id="changed"')[1]
    assert "promote-form" not in report.text  # refused by the gate: no button
    token = console.token(client, "/nlu/models")
    refused = client.post(f"/nlu/models/{second}/promote", data={"csrf": token})
    assert refused.status_code == 409 and "only a candidate that passed the gate" in refused.text
    assert client.post("/nlu/models/999/promote", data={"csrf": token}).status_code == 404
    assert client.get("/nlu/models/999").status_code == 404
    nothing = client.post("/nlu/rollback", data={"csrf": token})
    assert nothing.status_code == 409 and "no earlier model" in nothing.text
    with engine.connect() as conn:
        assert ms.active(conn)["id"] == first and ms.get(conn, second)["status"] == "refused"


def test_the_page_is_for_supervisors_and_admins_only(console: Harness):
    for role, status in (("agent", 403), ("editor", 403), ("admin", 200)):
        client = console.as_staff(f"p-{role}", role)
        assert client.get("/nlu/models").status_code == status, role
    supervisor = console.as_staff("sup", "supervisor")
    assert 'href="/nlu/models"' in supervisor.get("/nlu/models").text
