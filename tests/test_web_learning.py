"""The learning inbox in the staff console (issue 20), on SQLite and PostgreSQL: an editor reviews grouped,
redacted messages (label with a suggestion or another intent, out of scope, needs a new topic, ignore;
entity spans), filters; a supervisor applies in one step to a copy of the training data; a staff member
relabels a user's message from the case page. The keyboard flow runs in tests/test_web_learning_browser.py."""
from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from bot.config import ROOT, Settings
from bot.learning.inbox import candidate
from bot.learning.training import read_file
from bot.storage import learning_store
from tests.web_support import Harness, add_case, add_message, csrf_from


@pytest.fixture
def web(db_url, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "nlu" / "data", data)
    settings = replace(Settings.from_env(), database_url=db_url, console_url="http://testserver", nlu_data_dir=data)
    harness = Harness(settings)
    yield harness, data
    harness.close()


def inbox(engine, now, text, language="en", source="fallback", **nlu):
    row = candidate(text, language, source, **nlu)
    with engine.begin() as conn:
        learning_store.add_item(conn, row, now)


def group_ids(html: str, text: str) -> str:
    import re

    for match in re.finditer(r'<li class="lrn"[^>]*data-ids="([^"]+)"(.*?)</li>\n(?=<li|</ol>|{)', html, re.S):
        if text in match.group(2):
            return match.group(1)
    raise AssertionError(f"no group for {text!r}")


def test_review_flow_and_apply(web):
    console, data = web
    engine, now = console.engine, console.clock.now
    inbox(engine, now, "agent wants 5 lakh for Qatar visa is it ok", intent="agent_fees", confidence=0.41,
          ranking=[("agent_fees", 0.41), ("check_job_offer", 0.3), ("visa_rules", 0.1), ("warning_signs", 0.05)],
          entities=[{"entity": "amount", "start": 12, "end": 18}, {"entity": "country", "start": 23, "end": 28}])
    inbox(engine, now, "Agent wants 8 lakh for Qatar visa, is it ok??", intent="agent_fees", confidence=0.45)  # same key
    inbox(engine, now, "agent want 5 lakh for Qatar visa, is it ok sir", intent="agent_fees", confidence=0.45)  # near
    inbox(engine, now, "who will win the cricket world cup", intent="out_of_scope", confidence=0.2)
    inbox(engine, now, "mera naam Asif hai aur mujhe 0300-1234567 pe call karo", "ur-Latn", intent="ask_human",
          confidence=0.3)
    inbox(engine, now, "can I bring my cat on a student visa", intent="visa_rules", confidence=0.35)
    editor = console.as_staff("erum", "editor")
    page = editor.get("/learning")
    assert page.status_code == 200
    html = page.text
    assert "×3" in html  # the three Qatar messages: one group (two rows), counted
    assert "Asif" not in html and "1234567" not in html and "&lt;name&gt;" in html  # redacted
    for key in ('data-key="1"', 'data-key="o"', 'data-key="n"', 'data-key="i"'):
        assert key in html
    assert 'value="5 lakh"' in html and 'value="Qatar"' in html  # detected spans, ready to keep
    assert "/learning/apply" not in html  # editors do not apply
    csrf = csrf_from(html)
    qatar = group_ids(html, "Qatar")
    assert "," in qatar
    # label with the first suggestion, entities kept (JSON answer for the page's script)
    response = editor.post("/learning/decide", data={"csrf": csrf, "ids": qatar, "pick": "label:agent_fees",
                                                    "country": "Qatar", "amount": "5 lakh"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json() == {"ok": True, "changed": 2}
    for text, pick in (("cricket", "out_of_scope"), ("cat on a student visa", "new_topic"), ("call karo", "ignore")):
        response = editor.post("/learning/decide", data={"csrf": csrf, "ids": group_ids(html, text), "pick": pick})
        assert response.status_code == 303
    assert "Nothing to review" in editor.get("/learning").text
    topics = editor.get("/learning/topics").text
    assert "can I bring my cat on a student visa" in topics
    labelled = editor.get("/learning?status=labelled").text
    assert "agent_fees" in labelled and "out_of_scope" in labelled
    assert editor.post("/learning/apply", data={"csrf": csrf}).status_code == 403
    # a supervisor applies: one step, in the repo's format
    supervisor = console.as_staff("sara", "supervisor")
    page = supervisor.get("/learning?status=labelled").text
    assert "Apply 3 labelled examples" in page
    response = supervisor.post("/learning/apply", data={"csrf": csrf_from(page)})
    assert response.status_code == 303 and "done=applied" in response.headers["location"]
    assert "examples=3" in response.headers["location"]
    fees = read_file(data / "en" / "agent_fees.yml")
    assert "agent wants [5 lakh](amount) for [Qatar](country) visa is it ok" in fees
    assert "agent want [5 lakh](amount) for [Qatar](country) visa, is it ok sir" in fees  # the group's spans
    assert "who will win the cricket world cup" in read_file(data / "en" / "out_of_scope.yml")
    assert not any("cat on a student visa" in line for p in data.rglob("*.yml") for line in read_file(p))
    assert "Nothing to review" in supervisor.get("/learning?status=labelled").text
    # the audit log says who did it
    assert "learning_apply" in supervisor.get("/audit?action=learning_apply").text


def test_filters_on_the_page(web):
    console, _data = web
    engine, now = console.engine, console.clock.now
    inbox(engine, now, "visa kab tak valid hota hai", "ur-Latn", intent="visa_rules", confidence=0.5)
    inbox(engine, now, "ویزا کب تک چلتا ہے", "ur", intent="visa_rules", confidence=0.2)
    inbox(engine, now, "how do i check my agent", intent="verify_agent", confidence=0.8)
    editor = console.as_staff("erum", "editor")
    assert "ویزا" in editor.get("/learning?language=ur").text
    assert "visa kab tak" not in editor.get("/learning?language=ur").text
    page = editor.get("/learning?intent=verify_agent").text
    assert "how do i check my agent" in page and "visa kab tak" not in page
    page = editor.get("/learning?confidence=low").text
    assert "ویزا" in page and "how do i check my agent" not in page
    assert "Nothing to review" in editor.get("/learning?since=2099-01-01").text
    assert editor.get("/learning?language=xx&intent=nonsense&since=bad").status_code == 200  # bad filters dropped


def test_label_needs_a_known_intent(web):
    console, _data = web
    inbox(console.engine, console.clock.now, "something odd")
    editor = console.as_staff("erum", "editor")
    html = editor.get("/learning").text
    ids = group_ids(html, "something odd")
    response = editor.post("/learning/decide", data={"csrf": csrf_from(html), "ids": ids, "pick": "label:no_such"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert "something odd" in editor.get("/learning").text


def test_staff_relabel_from_the_case_page(web):
    console, data = web
    engine = console.engine
    case_id = add_case(engine, status="claimed")
    message_id = add_message(engine, case_id, "My brother Imran is stuck in Libya, agent ne passport le liya",
                             meta={"language": "ur-Latn", "intent": "passport_documents"})
    agent = console.as_staff("ali", "agent")
    page = agent.get(f"/cases/{case_id}").text
    assert f'action="/cases/{case_id}/relabel"' in page and f'name="message_id" value="{message_id}"' in page
    response = agent.post(f"/cases/{case_id}/relabel", data={"csrf": csrf_from(page), "message_id": str(message_id),
                                                           "intent": "emergency"})
    assert response.status_code == 303
    assert "done=relabelled" in response.headers["location"]
    with engine.connect() as conn:
        [row] = learning_store.items(conn, statuses=("labelled",))
    assert row["label"] == "emergency" and row["source"] == "staff" and row["case_id"] == case_id
    assert row["language"] == "ur-Latn" and "Libya" in row["text"]
    # a message of another case, or a bad intent: nothing
    other = add_case(engine, status="claimed")
    agent.post(f"/cases/{other}/relabel", data={"csrf": csrf_from(page), "message_id": str(message_id),
                                               "intent": "emergency"})
    agent.post(f"/cases/{case_id}/relabel", data={"csrf": csrf_from(page), "message_id": str(message_id),
                                                 "intent": "nonsense"})
    with engine.connect() as conn:
        assert len(learning_store.items(conn, statuses=("new", "labelled"))) == 1


def test_texts_are_escaped(web):
    console, _data = web
    inbox(console.engine, console.clock.now, '<script>alert("x")</script> agent <b>fee</b>', intent="agent_fees",
          confidence=0.3, ranking=[("agent_fees", 0.3)])
    editor = console.as_staff("erum", "editor")
    html = editor.get("/learning").text
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "<b>fee</b>" not in html
