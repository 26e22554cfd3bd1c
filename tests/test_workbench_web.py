"""The content workbench in the staff console (issue 19): the topics list, the topic editor with its
preview, and (with the editorial domain) saving, review, history, revert, conflicts and PO files. SQLite
and PostgreSQL (db_url)."""
from __future__ import annotations

import re

from tests.web_support import Harness

TOPIC = "abroad_in_trouble"


def test_topics_list_shows_states_filters_and_searches(console: Harness):
    client = console.as_staff("kiran", "editor")
    page = client.get("/content")
    assert page.status_code == 200
    assert 'id="topic-abroad_in_trouble"' in page.text and "Needs review" in page.text
    flagged = client.get("/content", params={"flag": "needs_review"}).text
    rows = re.findall(r'<tr id="topic-([a-z_]+)" data-flags="([^"]*)"', flagged)
    assert rows and all("needs_review" in flags for _id, flags in rows)
    found = client.get("/content", params={"q": "kafeel"}).text
    assert re.findall(r'<tr id="topic-([a-z_]+)"', found) == [TOPIC]
    assert "No topic matches." in client.get("/content", params={"q": "zzzz-no-such"}).text


def test_topic_editor_shows_every_language_side_by_side_with_previews(console: Harness):
    client = console.as_staff("kiran", "editor")
    page = client.get(f"/content/topics/{TOPIC}")
    assert page.status_code == 200
    text = page.text
    assert '<textarea name="answer_ur" rows="8" lang="ur" dir="rtl"' in text
    assert '<textarea name="answer_ur_latn" rows="8" lang="ur-Latn" dir="ltr"' in text
    assert 'id="preview-ur"' in text and 'id="preview-ur-Latn"' in text and 'id="preview-en"' in text
    assert "<script" not in text.split("</head>")[1]  # no inline script (CSP)
    assert client.get("/content/topics/no_such_topic").status_code == 404
    assert client.get("/content/topics/Bad..Id").status_code == 404


def test_preview_endpoint_renders_the_draft_as_telegram_would(console: Harness):
    client = console.as_staff("kiran", "editor")
    page = client.get(f"/content/topics/{TOPIC}").text
    form = dict(re.findall(r'<input type="hidden" name="(csrf|base)" value="([^"]*)"', page))
    form.update({"answer_en": "Call 1234 now.", "answer_ur": "ابھی 1234 پر کال کریں۔", "answer_ur_latn": "",
                 "title_en": "T", "title_ur": "ٹی", "title_ur_latn": "T"})
    response = client.post(f"/api/content/preview/{TOPIC}", data=form)
    assert response.status_code == 200
    data = response.json()["languages"]
    assert "ابھی \u20661234\u2069 پر کال کریں۔" in data["ur"]["html"]
    assert data["en"]["words"] == 3 and not data["en"]["over"]
    assert "answer" in data["ur-Latn"]["missing"]
    long = {**form, "answer_en": " ".join(["word"] * 80)}
    assert client.post(f"/api/content/preview/{TOPIC}", data=long).json()["languages"]["en"]["over"] is True
    # the API refuses without the token, and without a session
    assert client.post(f"/api/content/preview/{TOPIC}", data={**form, "csrf": "x"}).status_code == 403
    assert console.client().post(f"/api/content/preview/{TOPIC}", data=form).status_code == 401
