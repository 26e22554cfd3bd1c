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
    found = client.get("/content", params={"q": "tankhwah NA milne"}).text  # any language, any case
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


# -- saving, review, history, revert, conflicts (through the editorial domain) ----------------------------

def _form(client, path: str) -> dict[str, str]:
    """The editor form's fields as the page shows them (inputs, textareas, a checked checkbox)."""
    import html as html_lib

    page = client.get(path).text
    form = re.search(r'<form method="post" action="' + re.escape(path) + r'"[^>]*>(.*?)</form>', page, re.S).group(1)
    fields = {}
    for tag in re.finditer(r"<input\b([^>]*)>", form):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag.group(1)))
        if "name" not in attrs or attrs.get("type") == "file":
            continue
        if attrs.get("type") == "checkbox":
            if " checked" in tag.group(1):
                fields[attrs["name"]] = attrs.get("value", "on")
            continue
        fields[attrs["name"]] = html_lib.unescape(attrs.get("value", ""))
    for name, text in re.findall(r'<textarea name="(\w+)"[^>]*>(.*?)</textarea>', form, re.S):
        fields[name] = html_lib.unescape(text)
    return fields


def _audit_actions(console: Harness) -> list[str]:
    from tests.web_support import rows
    from bot.web import store

    return [r.action for r in rows(console.engine, store.audit_t)]


NEW_URDU = "بیرونِ ملک مشکل میں ہیں؟ سفارت خانے سے فوراً رابطہ کریں۔"


def test_an_edit_is_a_draft_until_a_publisher_approves_it(console: Harness):
    editor = console.as_staff("kiran", "editor")
    publisher = console.as_staff("sana", "supervisor")
    path = f"/content/topics/{TOPIC}"
    form = _form(editor, path)
    old_urdu = form["answer_ur"]
    form.update(answer_ur=NEW_URDU, note="shorter Urdu")
    response = editor.post(path, data=form)
    assert response.status_code == 303 and response.headers["location"] == path + "?done=saved"
    page = editor.get(path).text
    assert 'id="pending-draft"' in page and NEW_URDU in page  # the editor continues from the draft
    # users still see the published text
    assert "Needs review" in editor.get("/content").text
    listed = editor.get("/content", params={"flag": "draft"}).text
    assert re.findall(r'<tr id="topic-([a-z_]+)"', listed) == [TOPIC]
    # the editor cannot approve it: a clear refusal, nothing published
    review = editor.get("/content/review").text
    assert f'id="item-topic-{TOPIC}"' in review and "Approve and publish" not in review
    version = re.search(r'name="version" value="(\d+)"', publisher.get("/content/review").text).group(1)
    refused = editor.post(f"/content/review/topic/{TOPIC}/approve",
                          data={"csrf": console.token(editor, "/content"), "version": version})
    assert refused.status_code == 403
    assert "Only publishers (supervisors and admins) approve changes" in refused.text
    assert "content_publish" not in _audit_actions(console)
    # the publisher approves: published, the list no longer shows a draft
    approved = publisher.post(f"/content/review/topic/{TOPIC}/approve",
                              data={"csrf": console.token(publisher, "/content"), "version": version})
    assert approved.status_code == 303 and approved.headers["location"] == "/content/review?done=approved"
    assert "Nothing waits for review." in publisher.get("/content/review").text
    assert NEW_URDU in publisher.get(path).text and 'id="pending-draft"' not in publisher.get(path).text
    actions = _audit_actions(console)
    assert {"content_save", "content_submit", "content_approve_refused", "content_publish"} - set(actions) <= \
        {"content_approve_refused"}  # an editor's refusal comes from the role, before the four-eyes rule
    # history: the per-language diff and a revert to the seeded version
    history = publisher.get(f"/content/history/topic/{TOPIC}").text
    assert 'data-path="answer.ur" data-language="ur"' in history and 'class="diff"' in history
    assert "shorter Urdu" in history
    revert = editor.post(f"/content/history/topic/{TOPIC}/revert",
                         data={"csrf": console.token(editor, "/content"), "version": "1",
                               "base": re.search(r'name="base" value="(\d+)"', history).group(1)})
    assert revert.status_code == 303 and revert.headers["location"].endswith("?done=reverted")
    pending = publisher.get("/content/review").text
    assert "revert to version 1" in pending
    version = re.search(r'name="version" value="(\d+)"', pending).group(1)
    publisher.post(f"/content/review/topic/{TOPIC}/approve",
                   data={"csrf": console.token(publisher, "/content"), "version": version})
    assert _form(editor, path)["answer_ur"] == old_urdu


def test_a_stale_save_shows_the_conflict_and_overwrites_nothing(console: Harness):
    first = console.as_staff("kiran", "editor")
    second = console.as_staff("bilal", "editor")
    path = f"/content/topics/{TOPIC}"
    mine, theirs = _form(first, path), _form(second, path)
    mine.update(answer_en="Kiran's answer: call the embassy.")
    assert first.post(path, data=mine).status_code == 303
    theirs.update(answer_en="Bilal's answer: call the consulate.")
    response = second.post(path, data=theirs)
    assert response.status_code == 409
    changed, _sep, yours = response.text.partition("Your text (not saved)")
    assert 'id="conflict"' in changed and "Kiran" in changed and "Bilal" not in changed
    assert "Bilal" in yours  # their own text, to copy
    assert _form(first, path)["answer_en"] == "Kiran's answer: call the embassy."


def test_errors_are_shown_at_their_field_and_block_review(console: Harness):
    editor = console.as_staff("kiran", "editor")
    path = f"/content/topics/{TOPIC}"
    form = _form(editor, path)
    form.update(answer_ur=" ".join(["لفظ"] * 90), reviewed="not a date")
    response = editor.post(path, data=form)
    assert response.status_code == 400
    assert 'id="err-reviewed"' in response.text
    form["reviewed"] = "2026-12-01"
    response = editor.post(path, data=form)
    assert response.status_code == 422
    assert 'id="err-answer_ur"' in response.text and "90 words" in response.text
    assert "Nothing waits for review." in editor.get("/content/review").text


def test_the_list_shows_a_drafts_missing_translation_and_long_first_message(console: Harness):
    editor = console.as_staff("kiran", "editor")
    assert re.findall(r'<tr id="topic-([a-z_]+)"', editor.get("/content", params={"flag": "missing"}).text) == []
    path = f"/content/topics/{TOPIC}"
    form = _form(editor, path)
    form.update(answer_en="New advice: call the embassy first, then the SafeSafar team.", answer_ur="")
    assert editor.post(path, data=form).status_code == 422  # saved as a draft with its error
    listed = editor.get("/content", params={"flag": "missing"}).text
    assert re.findall(r'<tr id="topic-([a-z_]+)"', listed) == [TOPIC]
    urdu = re.search(r'<td class="lang-state" data-language="ur">(.*?)</td>', listed, re.S).group(1)
    assert "missing" in urdu and "Answer" in urdu
    found = editor.get("/content", params={"q": "embassy first SafeSafar"}).text  # the draft's text is searched
    assert re.findall(r'<tr id="topic-([a-z_]+)"', found) == [TOPIC]
    assert editor.get("/content", params={"flag": "too_long"}).text.count('<tr id="topic-') == 0
    form = _form(editor, path)
    form.update(answer_ur=" ".join(["لفظ"] * 90))
    assert editor.post(path, data=form).status_code == 422
    long = editor.get("/content", params={"flag": "too_long"}).text
    assert re.findall(r'<tr id="topic-([a-z_]+)"', long) == [TOPIC]
    assert "90 words" in re.search(r'<td class="lang-state" data-language="ur">(.*?)</td>', long, re.S).group(1)
    assert editor.get("/content", params={"flag": "missing"}).text.count('<tr id="topic-') == 0


def test_a_fact_needs_a_second_person(console: Harness):
    publisher = console.as_staff("sana", "supervisor")
    other = console.as_staff("omar", "admin")
    facts = publisher.get("/content/facts").text
    assert 'id="fact-fia_helpline"' in facts
    path = "/content/facts/fia_helpline"
    page = publisher.get(path).text
    assert "(" in page and 'id="fact-uses"' in page
    form = _form(publisher, path)
    form.update(unconfirmed_en="the FIA's helpline (being checked)", note="clearer")
    assert publisher.post(path, data=form).status_code == 303
    version = re.search(r'name="version" value="(\d+)"', publisher.get("/content/review").text).group(1)
    assert "Four eyes" in publisher.get("/content/review").text
    own = publisher.post("/content/review/fact/fia_helpline/approve",
                         data={"csrf": console.token(publisher, "/content"), "version": version})
    assert own.status_code == 403 and "need a second person" in own.text
    assert "content_approve_refused" in _audit_actions(console)
    ok = other.post("/content/review/fact/fia_helpline/approve",
                    data={"csrf": console.token(other, "/content"), "version": version})
    assert ok.status_code == 303
    assert "the FIA's helpline (being checked)" in publisher.get("/content/facts").text


def test_a_publisher_rejects_with_a_note(console: Harness):
    editor = console.as_staff("kiran", "editor")
    publisher = console.as_staff("sana", "supervisor")
    path = f"/content/topics/{TOPIC}"
    form = _form(editor, path)
    form.update(answer_en="Shorter.")
    editor.post(path, data=form)
    version = re.search(r'name="version" value="(\d+)"', publisher.get("/content/review").text).group(1)
    response = publisher.post(f"/content/review/topic/{TOPIC}/reject",
                              data={"csrf": console.token(publisher, "/content"), "version": version,
                                    "note": "too short: keep the embassy advice"})
    assert response.status_code == 303
    assert "too short: keep the embassy advice" in editor.get(f"/content/history/topic/{TOPIC}").text
    assert "content_reject" in _audit_actions(console)


def test_other_texts_are_edited_as_text_and_scoring_is_for_publishers(console: Harness):
    editor = console.as_staff("kiran", "editor")
    page = editor.get("/content/documents").text
    assert "/content/items/offer_check/offer_check" in page and "/content/items/countries/countries" in page
    path = "/content/items/offer_check/offer_check"
    form = _form(editor, path)
    weight = re.search(r"weight: (\d+)", form["document"])
    form["document"] = form["document"].replace(weight.group(0), f"weight: {int(weight.group(1)) + 1}", 1)
    response = editor.post(path, data=form)
    assert response.status_code == 403 and "only publishers change the offer check" in response.text
    assert "Nothing waits for review." in editor.get("/content/review").text


def test_translators_export_missing_texts_and_import_them_as_drafts(console: Harness):
    import io

    from babel.messages.pofile import read_po, write_po

    editor = console.as_staff("kiran", "editor")
    path = f"/content/topics/{TOPIC}"
    form = _form(editor, path)
    form["more_ur_latn"] = ""  # new details in English and Urdu, waiting for the Roman Urdu translation
    response = editor.post(path, data=form)
    assert response.status_code == 422 and 'id="err-more_ur_latn"' in response.text  # a draft, not for review
    listed = editor.get("/content", params={"flag": "draft"}).text
    assert re.findall(r'<tr id="topic-([a-z_]+)"', listed) == [TOPIC]
    exported = editor.get("/content/translate/export", params={"language": "ur-Latn", "missing": "1"})
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    catalog = read_po(io.BytesIO(exported.content))
    assert _audit_actions(console)[-1] == "content_po_export"
    assert [m.context for m in catalog if m.id] == [f"topic/{TOPIC}/more"]
    for message in catalog:
        if message.id:
            message.string = "Embassy se rabta karein."
    out = io.BytesIO()
    write_po(out, catalog)
    response = editor.post("/content/translate/import", data={"csrf": console.token(editor, "/content"),
                                                              "language": "ur-Latn"},
                           files={"file": ("ur-Latn.po", out.getvalue(), "text/x-gettext-translation")})
    assert response.status_code == 200 and 'id="import-result"' in response.text
    assert "1 texts in 1 drafts" in response.text
    assert _form(editor, path)["more_ur_latn"] == "Embassy se rabta karein."
    assert "translation import (ur-Latn)" in editor.get("/content/review").text  # complete now: sent for review


def test_refusals_reach_the_audit_log_in_words(console: Harness):
    editor = console.as_staff("kiran", "editor")
    path = "/content/items/offer_check/offer_check"
    form = _form(editor, path)
    weight = re.search(r"weight: (\d+)", form["document"])
    form["document"] = form["document"].replace(weight.group(0), f"weight: {int(weight.group(1)) + 1}", 1)
    assert editor.post(path, data=form).status_code == 403
    form = _form(editor, f"/content/topics/{TOPIC}")
    form.update(answer_en="Call the embassy.")
    assert editor.post(f"/content/topics/{TOPIC}", data=form).status_code == 303
    publisher = console.as_staff("sana", "supervisor")
    version = re.search(r'name="version" value="(\d+)"', publisher.get("/content/review").text).group(1)
    assert editor.post(f"/content/review/topic/{TOPIC}/approve",
                       data={"csrf": console.token(editor, "/content"), "version": version}).status_code == 403
    log = publisher.get("/audit", params={"action": "content_approve_refused"}).text
    row = log.split('data-action="content_approve_refused"')[1].split("</tr>")[0]
    assert "Refused: approving a content change" in row and f"item: <bdi>{TOPIC}</bdi>" in row
    assert f"version: <bdi>{version}</bdi>" in row
    log = publisher.get("/audit", params={"action": "content_save_refused"}).text
    row = log.split('data-action="content_save_refused"')[1].split("</tr>")[0]
    assert "Refused: saving a content change" in row and "only publishers change the offer check" in row
    assert "Saved a content draft" in publisher.get("/audit", params={"action": "content_save"}).text
    urdu = console.as_staff("urdu", "supervisor", language="ur")
    assert "انکار: مواد کی تبدیلی منظور کرنے کی اجازت نہیں" in urdu.get("/audit").text
