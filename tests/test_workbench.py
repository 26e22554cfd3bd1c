"""The editors' workbench (issue 19): publishing, four eyes, revert, conflict, validation pointing to the
field, the offer check's scoring, where a fact is used, per-language diffs, seeding, export and import, and
the live content a worker serves. On SQLite and PostgreSQL (db_url)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import ROOT, Settings
from bot.dialogue.content import Content, read_documents
from bot.editorial import Actor, Conflict, Forbidden, Invalid, WorkflowError
from bot.editorial.exchange import export, read_paths
from bot.editorial.live import LiveContent
from bot.services import build_workbench
from bot.storage.db import AuditRow, make_engine
from bot.storage.editorial import ContentSource

EDITOR = Actor("erum", "editor", None)
EDITOR2 = Actor("bilal", "editor", None)
PUB = Actor("amina", "supervisor", None)
PUB2 = Actor("zahid", "admin", None)
AGENT = Actor("kashif", "agent", None)
SEED = read_documents(ROOT / "content")
COUNTRIES = (ROOT / "nlu" / "entities" / "countries.txt").read_text(encoding="utf-8")


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def wb(engine):
    workbench = build_workbench(Settings.from_env(), engine)
    assert workbench.seed(SEED, COUNTRIES) > 90
    return workbench


def urdu_greeting(wb, version=None) -> str:
    return wb.data("topic", "greet", version)["answer"]["ur"]


def changed_greet(wb, new_urdu_first_line: str) -> str:
    text = wb.revision("topic", "greet").document
    old = urdu_greeting(wb).splitlines()[0]
    assert old in text
    return text.replace(old, new_urdu_first_line, 1)


def audit_actions(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(r.actor, r.action) for r in conn.execute(select(AuditRow.__table__).order_by(AuditRow.id))]


def test_seed_is_idempotent_and_exports_the_repository_files_byte_for_byte(wb, engine, tmp_path):
    items = len(wb.items())
    version = wb.content_version()
    assert wb.seed(SEED, COUNTRIES) == 0  # again: nothing added, nothing changed
    assert len(wb.items()) == items and wb.content_version() == version
    assert {r.version for i in wb.items() for r in wb.history(i.kind, i.key)} == {1}
    export(wb, tmp_path / "a", tmp_path / "countries.txt")
    export(wb, tmp_path / "b")
    for path, text in SEED.items():
        assert (tmp_path / "a" / path).read_bytes() == text.encode("utf-8"), path
        assert (tmp_path / "b" / path).read_bytes() == (tmp_path / "a" / path).read_bytes()
    assert (tmp_path / "countries.txt").read_bytes() == COUNTRIES.encode("utf-8")
    kinds = {i.kind for i in wb.items()}
    assert {"topic", "fact", "offer_check", "danger_lexicon", "glossary", "conversation", "countries"} <= kinds
    assert ("system", "content_seed") in audit_actions(engine)


def test_an_editor_drafts_a_publisher_publishes_and_the_content_version_moves(wb, engine):
    item = wb.item("topic", "greet")
    before = wb.content_version()
    saved = wb.save_draft(EDITOR, "topic", "greet", item.head_version, text=changed_greet(wb, "السلام علیکم! نیا متن۔"),
                          note="shorter greeting")
    assert saved.issues == [] and saved.revision.status == "draft" and saved.revision.version == 2
    assert urdu_greeting(wb, 1) != urdu_greeting(wb, 2)
    with pytest.raises(WorkflowError):  # not submitted yet
        wb.approve(PUB, "topic", "greet", 2)
    wb.submit(EDITOR, "topic", "greet", 2)
    with pytest.raises(Forbidden):
        wb.approve(EDITOR, "topic", "greet", 2)  # editors draft, publishers publish
    with pytest.raises(Forbidden):
        wb.save_draft(AGENT, "topic", "greet", 2, text="id: greet\n")
    assert [(i.key, r.version, r.created_at) for i, r in wb.pending()] == [("greet", 2, saved.revision.created_at)]
    published = wb.approve(PUB, "topic", "greet", 2, note="ok")
    assert published.status == "published" and published.reviewer == "amina"
    assert wb.item("topic", "greet").published_version == 2
    assert wb.content_version() == before + 1
    content = Content.from_documents(wb.published_documents())
    assert content.answer("greet", "ur").startswith("السلام علیکم! نیا متن۔")
    history = wb.history("topic", "greet")
    assert [(r.version, r.status, r.author) for r in history] == [(2, "published", "erum"), (1, "published", "seed")]
    assert history[0].note == "shorter greeting" and history[0].review_note == "ok"
    actions = [a for _, a in audit_actions(engine)]
    assert actions[-5:] == ["content_save", "content_submit", "content_approve_refused", "content_save_refused",
                            "content_publish"]  # the editor's approval and the agent's save were refused


def test_four_eyes_on_facts_and_the_danger_lexicon(wb, engine):
    fact = wb.item("fact", "fia_helpline")
    data = wb.data("fact", "fia_helpline")
    data["unconfirmed"]["en"] = "the FIA's anti-trafficking hotline 111-247-786"
    saved = wb.save_draft(PUB, "fact", "fia_helpline", fact.head_version, data=data, note="wording")
    assert saved.issues == []
    wb.submit(PUB, "fact", "fia_helpline", saved.revision.version)
    with pytest.raises(Forbidden, match="second person"):
        wb.approve(PUB, "fact", "fia_helpline", saved.revision.version)  # nobody approves their own change
    assert wb.item("fact", "fia_helpline").published_version == 1
    assert ("amina", "content_approve_refused") in audit_actions(engine)
    wb.approve(PUB2, "fact", "fia_helpline", saved.revision.version)
    assert wb.item("fact", "fia_helpline").published_version == saved.revision.version
    assert "the FIA's anti-trafficking hotline 111-247-786" in wb.published_documents()["facts.yml"]

    # an editor's change submitted by a publisher: that publisher is involved, the other one approves
    lexicon = wb.item("danger_lexicon", "ambiguous")
    text = wb.revision("danger_lexicon", "ambiguous").document.replace("    - ransom\n", "    - ransom\n    - ransom demand*\n", 1)
    saved = wb.save_draft(EDITOR, "danger_lexicon", "ambiguous", lexicon.head_version, text=text)
    assert saved.issues == []
    wb.submit(PUB, "danger_lexicon", "ambiguous", saved.revision.version)
    with pytest.raises(Forbidden):
        wb.approve(PUB, "danger_lexicon", "ambiguous", saved.revision.version)
    wb.approve(PUB2, "danger_lexicon", "ambiguous", saved.revision.version)
    assert "ransom demand*" in wb.published_documents()["safety/danger_lexicon.yml"]

    # a topic is not safety-critical: a publisher may publish their own change
    greet = wb.item("topic", "greet")
    saved = wb.save_draft(PUB, "topic", "greet", greet.head_version, text=changed_greet(wb, "السلام علیکم۔"))
    wb.submit(PUB, "topic", "greet", saved.revision.version)
    wb.approve(PUB, "topic", "greet", saved.revision.version)


def test_the_frame_of_the_facts_file_needs_four_eyes_too(wb):
    # a frame holds what is not an entry; text after the last fact would add a fact: safety-critical too
    for path in ("facts.yml", "safety/danger_lexicon.yml"):
        assert wb.item("frame", path).four_eyes
    assert not wb.item("frame", "glossary.yml").four_eyes and not wb.item("file", "languages.yml").four_eyes
    import json

    frame = wb.data("frame", "facts.yml")
    entry = wb.revision("fact", "fia_helpline").document.replace("  fia_helpline:", "  extra_fact:", 1)
    text = json.dumps({"before": frame["before"], "after": entry + frame["after"]}, ensure_ascii=False)
    saved = wb.save_draft(PUB, "frame", "facts.yml", 1, text=text)
    wb.submit(PUB, "frame", "facts.yml", saved.revision.version)
    with pytest.raises(Forbidden, match="second person"):
        wb.approve(PUB, "frame", "facts.yml", saved.revision.version)
    wb.approve(PUB2, "frame", "facts.yml", saved.revision.version)
    assert "extra_fact" in Content.from_documents(wb.published_documents()).facts


def test_a_stale_save_is_a_conflict_with_the_diff_never_an_overwrite(wb):
    loaded = wb.item("topic", "greet").head_version  # both editors open version 1
    first = wb.save_draft(EDITOR, "topic", "greet", loaded, text=changed_greet(wb, "پہلے مدیر کا متن۔"))
    stale_text = wb.revision("topic", "greet", loaded).document.replace("Assalam o alaikum, welcome", "Hello, welcome", 1)
    with pytest.raises(Conflict) as caught:
        wb.save_draft(EDITOR2, "topic", "greet", loaded, text=stale_text)
    conflict = caught.value
    assert (conflict.base_version, conflict.current_version) == (loaded, first.revision.version)
    by_language = conflict.diff.by_language()
    assert [c.path for c in by_language["ur"]] == ["answer.ur"]
    assert "پہلے مدیر کا متن۔" in by_language["ur"][0].new
    assert "en" not in by_language  # the first editor changed only Urdu
    assert wb.revision("topic", "greet").document == first.revision.document  # nothing overwritten
    assert [r.version for r in wb.history("topic", "greet")] == [2, 1]


def test_revert_is_a_new_version_reviewed_like_any_other(wb):
    saved = wb.save_draft(EDITOR, "topic", "greet", 1, text=changed_greet(wb, "بدلا ہوا متن۔"))
    wb.submit(EDITOR, "topic", "greet", 2)
    wb.approve(PUB, "topic", "greet", 2)
    reverted = wb.revert(EDITOR, "topic", "greet", to_version=1, base_version=saved.revision.version)
    assert reverted.revision.version == 3 and reverted.revision.status == "draft"
    assert reverted.revision.note == "revert to version 1"
    assert wb.item("topic", "greet").published_version == 2  # not live before review
    wb.submit(EDITOR, "topic", "greet", 3)
    wb.approve(PUB, "topic", "greet", 3)
    assert wb.published_documents()["topics/greet.yml"] == SEED["topics/greet.yml"]
    diff = wb.diff("topic", "greet", 2, 3)
    assert [c.language for c in diff.changes] == ["ur"]


def test_validation_points_to_the_field_and_blocks_publishing(wb):
    data = wb.data("topic", "greet")
    del data["answer"]["ur-Latn"]
    data["more"]["en"] += " Call {fact:no_such_fact}."
    saved = wb.save_draft(EDITOR, "topic", "greet", 1, data=data)
    assert saved.revision.version == 2  # the draft is kept
    located = {(i.kind, i.key, i.field, i.language) for i in saved.issues}
    assert ("topic", "greet", "answer", "ur-Latn") in located
    assert ("topic", "greet", "more", "en") in located  # the unknown fact
    with pytest.raises(Invalid) as caught:
        wb.submit(EDITOR, "topic", "greet", 2)
    assert any(i.field == "answer" and i.language == "ur-Latn" for i in caught.value.issues)
    assert wb.item("topic", "greet").published_version == 1

    # a phrase the danger lexicon cannot compile, a YAML error: located to the item
    broken = wb.save_draft(EDITOR, "danger_lexicon", "strong", 1,
                           text=wb.revision("danger_lexicon", "strong").document.replace("    - locked up\n", "    - \"@nosuchset up\"\n", 1))
    assert broken.issues and [(i.kind, i.key) for i in broken.issues] == [("danger_lexicon", "strong")]
    assert "nosuchset" in broken.issues[0].message
    bad_yaml = wb.save_draft(EDITOR, "fact", "fia_helpline", 1, text="  fia_helpline:\n    value: [unclosed\n")
    assert bad_yaml.issues[0].key == "fia_helpline"
    wrong_key = wb.validate("fact", "fia_helpline", "  other_fact:\n    value: '1'\n")
    assert wrong_key and "exactly the key" in wrong_key[0].message


def test_a_new_error_already_in_published_content_is_not_blamed_on_an_unrelated_change(wb, engine):
    # a draft of a fact that breaks a topic elsewhere: the issue points to the topic quoting it
    saved = wb.save_draft(EDITOR, "topic", "hotline_info", 1,
                          text=wb.revision("topic", "hotline_info").document.replace("{fact:", "{fact:x", 1))
    assert saved.issues and {i.key for i in saved.issues} == {"hotline_info"}
    assert wb.validate("topic", "greet", wb.revision("topic", "greet").document) == []


def test_only_publishers_change_the_offer_checks_scoring(wb):
    text = wb.revision("offer_check", "offer_check").document
    heavier = text.replace("thresholds: {medium: 3, high: 7}", "thresholds: {medium: 3, high: 6}", 1)
    assert heavier != text
    with pytest.raises(Forbidden, match="thresholds.high"):
        wb.save_draft(EDITOR, "offer_check", "offer_check", 1, text=heavier)
    data = wb.data("offer_check", "offer_check")
    question = data["questions"][0]
    ask = question["ask"]
    (ask.get("job") or ask)["en"] = (ask.get("job") or ask)["en"] + " "  # a text: editors may
    saved = wb.save_draft(EDITOR, "offer_check", "offer_check", 1, data=data)
    assert saved.revision.version == 2
    wb.save_draft(PUB, "offer_check", "offer_check", 2, text=heavier)  # publishers may


def test_refusals_are_audited_and_write_nothing_else(wb, engine):
    text = wb.revision("offer_check", "offer_check").document
    heavier = text.replace("thresholds: {medium: 3, high: 7}", "thresholds: {medium: 3, high: 6}", 1)
    before = audit_actions(engine)
    with pytest.raises(Forbidden):
        wb.save_draft(EDITOR, "offer_check", "offer_check", 1, text=heavier)  # scoring: publishers only
    with pytest.raises(Forbidden):
        wb.save_draft(AGENT, "topic", "greet", 1, text=wb.revision("topic", "greet").document)
    with pytest.raises(Forbidden):
        wb.save_draft(EDITOR, "file", "languages.yml", 1, text=wb.revision("file", "languages.yml").document)
    saved = wb.save_draft(EDITOR, "topic", "greet", 1, text=changed_greet(wb, "سلام۔"))
    wb.submit(EDITOR, "topic", "greet", saved.revision.version)
    with pytest.raises(Forbidden):
        wb.approve(EDITOR, "topic", "greet", saved.revision.version)  # an editor approving their own change
    with pytest.raises(Forbidden):
        wb.reject(EDITOR2, "topic", "greet", saved.revision.version)
    new = audit_actions(engine)[len(before):]
    assert new == [("erum", "content_save_refused"), ("kashif", "content_save_refused"),
                   ("erum", "content_save_refused"), ("erum", "content_save"), ("erum", "content_submit"),
                   ("erum", "content_approve_refused"), ("bilal", "content_reject_refused")]
    assert [r.version for r in wb.history("offer_check", "offer_check")] == [1]
    assert [r.version for r in wb.history("file", "languages.yml")] == [1]
    assert wb.item("topic", "greet").published_version == 1
    with engine.connect() as conn:
        details = [r.detail for r in conn.execute(select(AuditRow.__table__).order_by(AuditRow.id))][len(before):]
    assert details[0]["kind"] == "offer_check" and "thresholds.high" in details[0]["reason"]
    assert details[5] == {"kind": "topic", "key": "greet", "version": saved.revision.version,
                          "reason": "erum (editor) may not approve: publishers are supervisors and admins"}


def test_the_topics_overview_shows_drafts_placeholders_and_missing_translations(wb):
    published = {row.key: row for row in wb.topic_overview()}
    assert all(row.missing == {} and row.over_limit == [] for row in published.values())  # content check passes
    data = wb.data("topic", "greet")
    data["title"]["ur"] = ""
    wb.save_draft(EDITOR, "topic", "greet", 1, data=data)
    rows = {row.key: row for row in wb.topic_overview()}
    assert len(rows) == len([i for i in wb.items("topic")])
    assert rows["greet"].head_status == "draft" and rows["greet"].published_version == 1
    assert rows["greet"].missing == {"ur": ["title"]}  # described by the working change, not the published one
    assert rows["thank"].head_status == "published" and rows["thank"].missing == {}
    assert all(set(row.words) == {"en", "ur", "ur-Latn"} for row in rows.values())
    placeholders = {row.key for row in rows.values() if row.needs_review}
    assert placeholders == {k for k, t in Content(ROOT / "content").topics.items() if t.needs_review}


def test_the_topics_overview_describes_a_working_change_by_its_newest_revision(wb):
    today = wb.clock().date()
    # new English text waiting for its Urdu (a draft saved with its errors), marked for review, an old date
    data = wb.data("topic", "thank")
    data["answer"]["en"] = "Thank you! Stay safe."
    del data["answer"]["ur"]
    data["needs_review"] = True
    data["reviewed"] = (today.replace(year=today.year - 2)).isoformat()
    wb.save_draft(EDITOR, "topic", "thank", 1, data=data)
    # a first message over the limit in Roman Urdu
    long = wb.data("topic", "greet")
    long["answer"]["ur-Latn"] = " ".join(["lafz"] * 90)
    saved = wb.save_draft(EDITOR, "topic", "greet", 1, data=long)
    # a draft that does not parse: the published version describes the topic
    wb.save_draft(EDITOR, "topic", "hotline_info", 1, text="id: hotline_info\nanswer: [unclosed\n")
    # a new topic, only a draft so far
    new = wb.data("topic", "thank")
    new["id"] = "brand_new"
    new["answer"] = {"en": "Brand new answer."}
    wb.save_draft(EDITOR, "topic", "brand_new", 0, data=new)

    rows = {row.key: row for row in wb.topic_overview(today)}
    thank = rows["thank"]
    assert thank.head_status == "draft" and thank.missing == {"ur": ["answer"]}
    assert thank.needs_review and thank.review_overdue and thank.reviewed == data["reviewed"]
    assert thank.words["en"] == 4 and "Stay safe" in thank.text
    assert wb.data("topic", "thank", 1)["answer"]["en"].split()[0] in thank.text  # the published text is found too
    greet = rows["greet"]
    assert saved.issues and greet.over_limit == ["ur-Latn"] and greet.words["ur-Latn"] == 90 and greet.missing == {}
    hotline = rows["hotline_info"]
    assert hotline.head_status == "draft" and hotline.missing == {} and hotline.words["en"] > 0
    assert rows["brand_new"].published_version is None and rows["brand_new"].head_status == "draft"
    assert rows["brand_new"].missing == {"ur": ["answer"], "ur-Latn": ["answer"]}
    # once published, the published version describes it again
    text = wb.revision("topic", "thank", 1).document
    wb.save_draft(EDITOR, "topic", "thank", 2, text=text)
    wb.submit(EDITOR, "topic", "thank", 3)
    assert {row.key: row for row in wb.topic_overview(today)}["thank"].head_status == "pending"
    wb.approve(PUB, "topic", "thank", 3)
    thank = {row.key: row for row in wb.topic_overview(today)}["thank"]
    assert thank.head_status == "published" and thank.missing == {} and not thank.review_overdue


def test_new_items_and_keys_that_name_nothing_outside_content(wb):
    topic = wb.data("topic", "thank")
    topic["id"] = "thank_more"
    saved = wb.save_draft(EDITOR, "topic", "thank_more", 0, data=topic)
    assert saved.item.path == "topics/thank_more.yml" and saved.revision.version == 1
    with pytest.raises(Invalid):
        wb.save_draft(EDITOR, "topic", "../../evil", 0, data=topic)
    with pytest.raises(Invalid):
        wb.save_draft(PUB, "file", "../outside.yml", 0, text="x: 1\n")
    with pytest.raises(Conflict):  # "new" over an item that exists
        wb.save_draft(EDITOR, "topic", "thank_more", 0, data=topic)


def test_a_preview_is_the_published_content_with_the_draft_text(wb):
    text = changed_greet(wb, "پیش نظارہ۔")
    content = Content.from_documents(wb.documents_with({("topic", "greet"): text}))
    assert content.answer("greet", "ur").startswith("پیش نظارہ۔")
    assert Content.from_documents(wb.published_documents()).answer("greet", "ur") == Content(ROOT / "content").answer("greet", "ur")
    topic = wb.data("topic", "thank")
    topic["id"] = "brand_new"
    from bot.editorial import dump_entry
    assert "brand_new" in Content.from_documents(wb.documents_with({("topic", "brand_new"): dump_entry("topic", "brand_new", topic)})).topics


def test_where_a_fact_is_used(wb):
    used = wb.where_used("fia_tip_hotline")
    assert ("topic", "hotline_info") in {(u.kind, u.key) for u in used}
    assert all(u.language in ("en", "ur", "ur-Latn", None) for u in used)
    assert {u.kind for u in used} >= {"topic"}


def test_export_import_export_round_trip_is_lossless(wb, engine, tmp_path, db_url):
    # a deployment's edit, exported; imported into another database seeded from the repository, as drafts
    saved = wb.save_draft(EDITOR, "topic", "greet", 1, text=changed_greet(wb, "برآمد اور درآمد۔"))
    wb.submit(EDITOR, "topic", "greet", saved.revision.version)
    wb.approve(PUB, "topic", "greet", saved.revision.version)
    fact = wb.data("fact", "rescue_1122_gb")
    fact["what"] += " (checked)"
    saved = wb.save_draft(EDITOR, "fact", "rescue_1122_gb", 1, data=fact)
    wb.submit(EDITOR, "fact", "rescue_1122_gb", saved.revision.version)
    wb.approve(PUB, "fact", "rescue_1122_gb", saved.revision.version)
    export(wb, tmp_path / "first")

    other = wb.repository
    with other.unit() as unit:  # empty the tables: a second deployment, seeded from the repository
        from bot.storage.editorial import ITEMS, REVISIONS
        unit.conn.execute(REVISIONS.delete())
        unit.conn.execute(ITEMS.delete())
    second = build_workbench(Settings.from_env(), engine)
    second.seed(SEED)
    documents, countries = read_paths([tmp_path / "first"])
    drafts = second.import_documents(EDITOR, documents, countries)
    assert sorted((d.item.kind, d.item.key) for d in drafts) == [("fact", "rescue_1122_gb"), ("topic", "greet")]
    assert all(d.issues == [] for d in drafts)
    for d in drafts:
        second.submit(EDITOR, d.item.kind, d.item.key, d.revision.version)
        second.approve(PUB, d.item.kind, d.item.key, d.revision.version)
    export(second, tmp_path / "second")
    files = sorted(p.relative_to(tmp_path / "first") for p in (tmp_path / "first").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "second") for p in (tmp_path / "second").rglob("*") if p.is_file())
    for rel in files:
        assert (tmp_path / "first" / rel).read_bytes() == (tmp_path / "second" / rel).read_bytes(), rel
    assert second.import_documents(EDITOR, *read_paths([tmp_path / "second"])) == []  # nothing differs any more


def test_the_live_store_follows_publishing_and_keeps_the_last_good_content(wb, engine):
    live = LiveContent(ContentSource(engine), start=False)
    assert live.get().answer("greet", "ur") == Content(ROOT / "content").answer("greet", "ur")
    saved = wb.save_draft(EDITOR, "topic", "greet", 1, text=changed_greet(wb, "زندہ تبدیلی۔"))
    wb.submit(EDITOR, "topic", "greet", 2)
    assert live.refresh() and live.get().answer("greet", "ur").startswith("السلام")  # nothing published yet
    wb.approve(PUB, "topic", "greet", saved.revision.version)
    assert live.refresh() and live.get().answer("greet", "ur").startswith("زندہ تبدیلی۔")
    reloads = live.reloads
    assert live.refresh() and live.reloads == reloads  # same version: not rebuilt

    # a published revision that does not build (written past the workbench's checks): the last good stays
    repo = wb.repository
    from bot.editorial.model import Revision
    from bot.editorial.workbench import utcnow
    with repo.unit() as unit:
        item = unit.item("file", "languages.yml")
        unit.advance_head(item.id, 1)
        unit.add_revision(item.id, Revision(2, "published", "languages: [broken\n", "x", None, utcnow()))
        unit.set_published(item.id, 2)
        unit.bump_content_version(utcnow())
    assert live.refresh() is False
    assert live.last_error and live.get().answer("greet", "ur").startswith("زندہ تبدیلی۔")


def test_countries_are_published_but_not_live(wb):
    item = wb.item("countries", "countries")
    assert not item.live
    before = wb.content_version()
    text = wb.revision("countries", "countries").document + "Testland | testland\n"
    saved = wb.save_draft(EDITOR, "countries", "countries", item.head_version, text=text)
    wb.submit(EDITOR, "countries", "countries", saved.revision.version)
    wb.approve(PUB, "countries", "countries", saved.revision.version)
    assert wb.content_version() == before  # the model does not change: export + `safesafar nlu train` does
    assert wb.countries_text().endswith("Testland | testland\n")
    dup = wb.validate("countries", "countries", text + "Testland | t2\n")
    assert dup and dup[0].kind == "countries"


def test_the_command_line_seeds_exports_and_imports(tmp_path, safesafar_bin):
    """`safesafar db upgrade` seeds (once), `content export` writes the repository's files back, `content
    import` makes drafts of what differs."""
    import os
    import subprocess

    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", PYTHONPATH=str(ROOT))

    def run(*args: str) -> str:
        done = subprocess.run([str(safesafar_bin), *args], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "items seeded" in run("db", "upgrade")
    assert "nothing seeded" in run("db", "upgrade")
    run("content", "export", str(tmp_path / "out"))
    for path, text in SEED.items():
        assert (tmp_path / "out" / path).read_text(encoding="utf-8") == text, path
    greet = tmp_path / "out" / "topics" / "greet.yml"
    greet.write_text(greet.read_text(encoding="utf-8").replace("Welcome", "Welcome!", 1), encoding="utf-8")
    out = run("content", "import", str(greet), "--author", "erum")
    assert "draft topic greet version 2" in out and "1 drafts" in out
    assert "0 drafts" in run("content", "import", str(tmp_path / "out" / "facts.yml"), "--author", "erum")


def test_a_worker_reading_the_database_follows_the_published_danger_lexicon(wb, engine, db_url):
    """build_content_store (the wiring): the content and the safety net's lexicon follow a publish."""
    from dataclasses import replace
    from types import SimpleNamespace

    from bot.safety import DangerNet
    from bot.services import build_content_store

    understander = SimpleNamespace(danger=DangerNet.from_file(ROOT / "content" / "safety" / "danger_lexicon.yml"))
    store = build_content_store(replace(Settings.from_env(), database_url=db_url), engine, "database", understander)
    try:
        phrase = "zorblax captured"
        assert not understander.danger.lexicon.scan(f"they {phrase} my brother").strong
        text = wb.revision("danger_lexicon", "strong").document.replace("    - locked up\n", f"    - locked up\n    - {phrase}\n", 1)
        saved = wb.save_draft(EDITOR, "danger_lexicon", "strong", 1, text=text)
        wb.submit(EDITOR, "danger_lexicon", "strong", saved.revision.version)
        wb.approve(PUB, "danger_lexicon", "strong", saved.revision.version)
        store.refresh()
        assert understander.danger.lexicon.scan(f"they {phrase} my brother").strong
    finally:
        store.close()


def test_the_terminal_chat_reads_the_files():
    from bot.dialogue.content import ContentStore
    from bot.services import build_content_store

    assert isinstance(build_content_store(Settings.from_env(), None, "files"), ContentStore)
