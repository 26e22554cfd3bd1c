"""The editors' workbench: drafts, review, publishing, history, revert, diffs, validation, "where used".

Rules (issue 19):
- Editors (role `editor`) draft; publishers (`supervisor`, `admin`: bot/web/framework.py's SUPERVISORS)
  draft too, and approve (which publishes), reject. Agents do nothing here.
- Every save is a new revision over the version the editor loaded (`base_version` = the item's
  head_version then). If someone saved meanwhile, nothing is saved: Conflict, carrying the diff between
  what the editor started from and what is current.
- submit: the newest draft goes to review (pending). approve: a publisher publishes the newest pending
  revision; the content version goes up and every worker serves it within seconds. reject: back to the
  authors, with a note.
- Four eyes: a fact or a danger-lexicon entry is published only by a publisher who wrote no revision of
  the change (every revision since the published one) and did not submit it.
- The offer check's scoring (weights, critical flags, thresholds, combinations, ...: model.SCORING_KEYS)
  is changed only by publishers; languages.yml and the frames of split files likewise.
- revert: a new draft with an earlier version's text, reviewed like any other.
- Validation on every save: `safesafar content check`'s checks on the content the change would make;
  errors are returned with the draft (which is kept), and block submit and approve.
- Every action goes to the audit log (the console's), in the same transaction.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import Callable, Protocol

from .checks import Checker
from .diff import diff as diff_texts
from .diff import flatten
from .layout import (COUNTRIES, COUNTRIES_PATH, FRAME, TOPIC, LayoutError, OFFER_CHECK, Piece, assemble,
                     check_key, dump_entry, item_data, item_path, normalise_text, split_documents)
from .model import (DRAFT, OPEN, PENDING, PUBLISHED, PUBLISHER_ONLY_KINDS, REJECTED, SCORING_KEYS, SUPERSEDED,
                    Actor, Conflict, Diff, Forbidden, Invalid, Issue, Item, NotFound, Revision, Saved, TopicStatus, Usage,
                    WorkflowError)

SEED_AUTHOR = "seed"


class Unit(Protocol):
    """One transaction of the repository (bot/storage/editorial.py implements it with SQL)."""

    def item(self, kind: str, key: str, for_update: bool = False) -> Item | None: ...
    def items(self, kind: str | None = None) -> list[Item]: ...
    def create_item(self, kind: str, key: str, path: str, position: int) -> Item: ...
    def next_position(self, path: str) -> int: ...
    def advance_head(self, item_id: int, base_version: int) -> bool: ...
    def add_revision(self, item_id: int, revision: Revision) -> None: ...
    def revision(self, item_id: int, version: int) -> Revision | None: ...
    def revisions(self, item_id: int) -> list[Revision]: ...
    def set_status(self, item_id: int, version: int, status: str, from_statuses: tuple[str, ...], **fields) -> bool: ...
    def set_published(self, item_id: int, version: int) -> None: ...
    def published(self) -> list[tuple[Item, Revision]]: ...
    def heads(self, statuses: tuple[str, ...]) -> list[tuple[Item, Revision]]: ...
    def content_version(self) -> int: ...
    def bump_content_version(self, at: datetime) -> int: ...
    def audit(self, at: datetime, actor: Actor, action: str, detail: dict) -> None: ...


class Repository(Protocol):
    def unit(self, write: bool = True) -> AbstractContextManager[Unit]:
        """One transaction; write=False: reads only (SQLite: takes no write lock)."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def piece(item: Item, text: str) -> Piece:
    return Piece(item.kind, item.key, item.path, text, item.position)


class Workbench:
    def __init__(self, repository: Repository, checker: Checker, clock: Callable[[], datetime] = utcnow):
        self.repository = repository
        self.checker = checker
        self.clock = clock

    # -- reading --------------------------------------------------------------------------------------------
    def items(self, kind: str | None = None) -> list[Item]:
        with self.repository.unit(write=False) as unit:
            return unit.items(kind)

    def item(self, kind: str, key: str) -> Item:
        with self.repository.unit(write=False) as unit:
            return self._item(unit, kind, key)

    def revision(self, kind: str, key: str, version: int | None = None) -> Revision:
        """A version of the item (default: its newest, whatever its status)."""
        with self.repository.unit(write=False) as unit:
            item = self._item(unit, kind, key)
            return self._revision(unit, item, item.head_version if version is None else version)

    def published_revision(self, kind: str, key: str) -> Revision | None:
        with self.repository.unit(write=False) as unit:
            item = self._item(unit, kind, key)
            return unit.revision(item.id, item.published_version) if item.published_version else None

    def data(self, kind: str, key: str, version: int | None = None):
        """The value a version holds (parsed: a topic's mapping, a fact's fields, ...)."""
        return item_data(kind, key, self.revision(kind, key, version).document)

    def history(self, kind: str, key: str) -> list[Revision]:
        """Every revision, newest first, with who, when and the notes."""
        with self.repository.unit(write=False) as unit:
            return sorted(unit.revisions(self._item(unit, kind, key).id), key=lambda r: -r.version)

    def pending(self) -> list[tuple[Item, Revision]]:
        """Revisions waiting for a publisher."""
        with self.repository.unit(write=False) as unit:
            return unit.heads((PENDING,))

    def drafts(self) -> list[tuple[Item, Revision]]:
        """Items with a working change (draft or pending)."""
        with self.repository.unit(write=False) as unit:
            return unit.heads(OPEN)

    def content_version(self) -> int:
        with self.repository.unit(write=False) as unit:
            return unit.content_version()

    def published_documents(self) -> dict[str, str]:
        """{path under content/: text} of the published content (what the bot serves)."""
        with self.repository.unit(write=False) as unit:
            return assemble(piece(i, r.document) for i, r in unit.published())

    def documents_with(self, changes: dict[tuple[str, str], str]) -> dict[str, str]:
        """The published content with some items' texts replaced or added (a preview): {(kind, key): text}."""
        with self.repository.unit(write=False) as unit:
            pieces = self._pieces_with(unit, changes)
        return assemble(pieces)

    def countries_text(self, version: str = "published") -> str | None:
        with self.repository.unit(write=False) as unit:
            item = unit.item(COUNTRIES, "countries")
            if item is None:
                return None
            number = item.published_version if version == "published" else item.head_version
            return unit.revision(item.id, number).document if number else None

    def diff(self, kind: str, key: str, old_version: int | None, new_version: int | None) -> Diff:
        """Between two versions (None: nothing), per language (Diff.by_language) and as a text diff."""
        with self.repository.unit(write=False) as unit:
            item = self._item(unit, kind, key)
            old = self._revision(unit, item, old_version).document if old_version else None
            new = self._revision(unit, item, new_version).document if new_version else None
        return diff_texts(kind, key, old, new, old_version, new_version)

    def where_used(self, fact_id: str) -> list[Usage]:
        """Every published text quoting {fact:fact_id}: topics, the offer check, conversation texts, facts."""
        needle = "{fact:" + fact_id + "}"
        out = []
        with self.repository.unit(write=False) as unit:
            published = unit.published()
        for item, revision in published:
            if needle not in revision.document or item.kind == FRAME:
                continue
            try:
                leaves = flatten(item_data(item.kind, item.key, revision.document))
            except LayoutError:
                continue
            out += [Usage(item.kind, item.key, path, lang) for path, (lang, text) in leaves.items() if needle in text]
        return out

    def topic_overview(self, today=None) -> list[TopicStatus]:
        """The topics list: per topic its published state, working change, placeholder mark, review date,
        missing translations and first-message words against the limit (as `content check` counts them).
        A topic with a working change (its newest revision a draft or waiting for review) is described by
        that revision (a missing translation only exists there: the published content passes the checks);
        else by its published version. A working change that does not parse is described by the published
        version (the editor shows its errors). Facts are rendered as published."""
        from datetime import date, timedelta
        from pathlib import Path

        from ..dialogue.content import Content, ContentError
        from ..dialogue.content_check import MAX_WORDS, words

        with self.repository.unit(write=False) as unit:
            published = unit.published()
            items = {i.key: i for i in unit.items(TOPIC)}
            heads = {i.key: (i, r) for i, r in unit.heads(OPEN) if i.kind == TOPIC}
        content = Content.from_documents(assemble(piece(i, r.document) for i, r in published))
        topics = dict(content.topics)
        for key, (item, revision) in heads.items():
            try:
                topic = Content._load_topic(Path(item.path), revision.document)
            except (ContentError, ValueError, TypeError, AttributeError):
                continue  # unreadable: the published version (if any) stays described
            if topic.id == key:
                topics[key] = topic
        today = today or date.today()
        out = []
        for key, topic in sorted(topics.items()):
            item = items.get(key)
            missing = {lang: [part for part in ("title", "answer") + (("more",) if topic.more else ())
                              if not str(getattr(topic, part).get(lang) or "").strip()] for lang in content.languages}
            counts = {lang: words(content.render(content.pick(topic.answer, lang), lang)) for lang in content.languages}
            shown = (topic, content.topics[key]) if topic is not content.topics.get(key, topic) else (topic,)
            texts = list(dict.fromkeys(str(v) for t in shown for part in (t.title, t.answer, t.more)
                                       for v in part.values()))  # a search finds the draft's and the published text
            out.append(TopicStatus(
                key, str(topic.title.get("en") or key), item.published_version if item else None,
                item.head_version if item else 0, heads[key][1].status if key in heads else PUBLISHED,
                topic.needs_review, topic.reviewed.isoformat() if topic.reviewed else None,
                topic.reviewed is None or topic.reviewed < today - timedelta(days=365),
                {lang: fields for lang, fields in missing.items() if fields}, counts,
                [lang for lang, n in counts.items() if n > MAX_WORDS], "\n".join(texts)))
        return out

    def validate(self, kind: str, key: str, text: str) -> list[Issue]:
        """The errors the content would have with this text for the item (what a save would report)."""
        with self.repository.unit(write=False) as unit:
            item = unit.item(kind, key)
            path = item.path if item else item_path(kind, key)
            position = item.position if item else unit.next_position(path)
            return self._issues(unit, [Piece(kind, key, path, text, position)])

    # -- changing -------------------------------------------------------------------------------------------
    def save_draft(self, actor: Actor, kind: str, key: str, base_version: int, *, text: str | None = None,
                   data=None, note: str = "") -> Saved:
        """A new draft revision over `base_version` (0 for a new item). Give the item's text (YAML as in its
        file; an entry's indentation may be left out) or its data (written in the canonical form)."""
        if (text is None) == (data is None):
            raise ValueError("give text or data")
        self._may_draft(actor, kind, key)
        text = normalise_text(kind, text) if text is not None else dump_entry(kind, key, data)
        return self._save(actor, kind, key, base_version, text, note, action="content_save")

    def revert(self, actor: Actor, kind: str, key: str, to_version: int, base_version: int, note: str = "") -> Saved:
        """A new draft holding version `to_version`'s text; reviewed like any other change."""
        self._may_draft(actor, kind, key)
        with self.repository.unit(write=False) as unit:
            item = self._item(unit, kind, key)
            text = self._revision(unit, item, to_version).document
        return self._save(actor, kind, key, base_version, text, note or f"revert to version {to_version}",
                          action="content_revert", reverted_to=to_version)

    def submit(self, actor: Actor, kind: str, key: str, version: int, note: str = "") -> Revision:
        """The newest draft goes to review. Refused while it fails validation."""
        self._may_draft(actor, kind, key)

        def apply(unit: Unit, item: Item, now: datetime) -> None:
            unit.set_status(item.id, version, PENDING, (DRAFT,), submitted_by=actor.name, submitted_at=now)
            unit.audit(now, actor, "content_submit", self._detail(item, version, note))

        return self._decide(kind, key, version, (DRAFT,), apply)

    def approve(self, actor: Actor, kind: str, key: str, version: int, note: str = "") -> Revision:
        """A publisher approves the newest pending revision: it is published (the bot serves it within
        seconds). Four eyes on facts and the danger lexicon: not by anyone who wrote or submitted it."""
        if not actor.publisher:
            raise self._refused(actor, "content_approve_refused", kind, key, version,
                                f"{actor.name} ({actor.role}) may not approve: publishers are supervisors and admins")

        def apply(unit: Unit, item: Item, now: datetime) -> None:
            if not unit.set_status(item.id, version, PUBLISHED, (PENDING,), reviewer=actor.name,
                                   reviewer_id=actor.staff_id, review_note=note, decided_at=now):
                raise WorkflowError(f"{kind} {key} version {version} is no longer pending")
            unit.set_published(item.id, version)
            content_version = unit.bump_content_version(now) if item.live else unit.content_version()
            unit.audit(now, actor, "content_publish",
                       {**self._detail(item, version, note), "content_version": content_version})

        def four_eyes(unit: Unit, item: Item, now: datetime) -> Exception | None:
            if item.four_eyes and actor.name in self._involved(unit, item, version):
                unit.audit(now, actor, "content_approve_refused", self._detail(item, version, "four eyes: own change"))
                return Forbidden(f"{kind} {key} is safety-critical: a second person approves it "
                                 f"({actor.name} wrote or submitted this change)")
            return None

        return self._decide(kind, key, version, (PENDING,), apply, before=four_eyes)

    def reject(self, actor: Actor, kind: str, key: str, version: int, note: str = "") -> Revision:
        if not actor.publisher:
            raise self._refused(actor, "content_reject_refused", kind, key, version,
                                f"{actor.name} ({actor.role}) may not reject: publishers are supervisors and admins")
        now = self.clock()
        with self.repository.unit() as unit:
            item = self._item(unit, kind, key, for_update=True)
            self._newest(unit, item, version, (PENDING,))
            if not unit.set_status(item.id, version, REJECTED, (PENDING,), reviewer=actor.name,
                                   reviewer_id=actor.staff_id, review_note=note, decided_at=now):
                raise WorkflowError(f"{kind} {key} version {version} is no longer pending")
            unit.audit(now, actor, "content_reject", self._detail(item, version, note))
            return unit.revision(item.id, version)

    # -- seeding, import ------------------------------------------------------------------------------------
    def seed(self, documents: dict[str, str], countries: str | None = None) -> int:
        """The published state from content/ files: every item the database does not have yet is added as
        published version 1 (author "seed"). Items it has are never changed: running it again changes
        nothing. Returns how many items were added."""
        pieces = split_documents(documents)
        if countries is not None:
            pieces.append(Piece(COUNTRIES, "countries", COUNTRIES_PATH, countries, 0))
        now = self.clock()
        added = 0
        with self.repository.unit() as unit:
            have = {(i.kind, i.key) for i in unit.items()}
            for p in pieces:
                if (p.kind, p.key) in have:
                    continue
                item = unit.create_item(p.kind, p.key, p.path, p.position)
                unit.advance_head(item.id, 0)
                unit.add_revision(item.id, Revision(1, PUBLISHED, p.text, SEED_AUTHOR, None, now, note="seeded from files",
                                                    base_version=0, reviewer=SEED_AUTHOR, decided_at=now))
                unit.set_published(item.id, 1)
                added += 1
            if added:
                unit.bump_content_version(now)
                unit.audit(now, Actor("system", "system"), "content_seed", {"items": added})
        return added

    def import_documents(self, actor: Actor, documents: dict[str, str], countries: str | None = None,
                         note: str = "") -> list[Saved]:
        """Files as drafts: every item whose text differs from the item's newest revision becomes a new
        draft over it (new items: version 1). Unchanged items are skipped."""
        pieces = split_documents(documents)
        if countries is not None:
            pieces.append(Piece(COUNTRIES, "countries", COUNTRIES_PATH, countries, 0))
        changed = []
        with self.repository.unit(write=False) as unit:
            for p in pieces:
                item = unit.item(p.kind, p.key)
                if item is not None and item.head_version and unit.revision(item.id, item.head_version).document == p.text:
                    continue
                changed.append((p, item.head_version if item else 0))
        for p, _base in changed:
            self._may_draft(actor, p.kind, p.key)  # refused before anything is saved
        return [self._save(actor, p.kind, p.key, base, p.text, note or "imported", action="content_import",
                           position=p.position) for p, base in changed]

    # -- internals ------------------------------------------------------------------------------------------
    def _decide(self, kind: str, key: str, version: int, statuses: tuple[str, ...], apply, before=None) -> Revision:
        """Validate the newest revision outside any write transaction (the checks take a few hundred ms and
        must not hold SQLite's write lock), then apply the decision in one transaction if neither the item
        nor the published content moved meanwhile (else validate again)."""
        for _attempt in range(5):
            with self.repository.unit(write=False) as unit:
                item = self._item(unit, kind, key)
                revision = self._newest(unit, item, version, statuses)
                seen = unit.content_version()
                published = [piece(i, r.document) for i, r in unit.published()]
            if before is not None:  # refusals (four eyes) before the slow checks, audited (committed)
                now = self.clock()
                with self.repository.unit() as unit:
                    refused = before(unit, self._item(unit, kind, key), now)
                if refused is not None:
                    raise refused
            issues = self.checker.issues(seen, published, [piece(item, revision.document)])
            if issues:
                raise Invalid(issues)
            now = self.clock()
            with self.repository.unit() as unit:
                current = self._item(unit, kind, key, for_update=True)
                self._newest(unit, current, version, statuses)
                if unit.content_version() != seen:
                    continue  # something was published meanwhile: validate against it
                if before is not None and (refused := before(unit, current, now)) is not None:
                    raise refused
                apply(unit, current, now)
                return unit.revision(current.id, version)
        raise WorkflowError(f"{kind} {key}: the content kept changing; try again")

    def _save(self, actor: Actor, kind: str, key: str, base_version: int, text: str, note: str, action: str,
              position: int | None = None, **extra) -> Saved:
        now = self.clock()
        if kind in PUBLISHER_ONLY_KINDS and not actor.publisher:
            raise self._refused(actor, "content_save_refused", kind, key, base_version,
                                f"only publishers change {kind} items")
        refusal = None
        with self.repository.unit() as unit:
            item = unit.item(kind, key, for_update=True)
            if item is None:
                if base_version != 0:
                    raise NotFound(f"{kind} {key}")
                try:
                    check_key(kind, key)
                except LayoutError as exc:
                    raise Invalid([Issue(str(exc), kind, key)]) from exc
                path = item_path(kind, key)
                item = unit.create_item(kind, key, path, unit.next_position(path) if position is None else position)
            if item.head_version != base_version:
                raise self._conflict(unit, item, base_version)
            base = unit.revision(item.id, base_version) if base_version else None
            if kind == OFFER_CHECK and not actor.publisher and base is not None:
                changed = _scoring_changes(base.document, text)
                if changed:
                    refusal = "only publishers change the offer check's scoring: " + ", ".join(changed[:5])
            if refusal is not None:  # nothing is written but the refusal (the item existed: base is not None)
                unit.audit(now, actor, "content_save_refused",
                           {"kind": kind, "key": key, "version": base_version, "reason": refusal[:300]})
            else:
                if not unit.advance_head(item.id, base_version):  # someone saved between our read and write
                    raise self._conflict(unit, item, base_version)
                version = base_version + 1
                if base is not None and base.status in OPEN:
                    unit.set_status(item.id, base_version, SUPERSEDED, OPEN)
                revision = Revision(version, DRAFT, text, actor.name, actor.staff_id, now, note=note,
                                    base_version=base_version)
                unit.add_revision(item.id, revision)
                unit.audit(now, actor, action, {**self._detail(item, version, note), **extra})
                item = unit.item(kind, key)
        if refusal is not None:
            raise Forbidden(refusal)
        with self.repository.unit(write=False) as unit:  # checked after the commit: no lock held meanwhile
            issues = self._issues(unit, [piece(item, text)])
        return Saved(item, revision, issues)

    def _conflict(self, unit: Unit, item: Item, base_version: int) -> Conflict:
        base = unit.revision(item.id, base_version) if base_version else None
        current = unit.revision(item.id, item.head_version) if item.head_version else None
        return Conflict(item.kind, item.key, base_version, item.head_version,
                        diff_texts(item.kind, item.key, base.document if base else None,
                                   current.document if current else None, base_version, item.head_version))

    def _pieces_with(self, unit: Unit, changes: dict[tuple[str, str], str]) -> list[Piece]:
        """The published pieces with some items' texts replaced (or added, for an item not published yet).
        (workbench-ui: documents_with called it; see the request in /tmp/helpers/workbench-api.md)"""
        from dataclasses import replace

        published = [piece(i, r.document) for i, r in unit.published()]
        have = {(p.kind, p.key) for p in published}
        out = [replace(p, text=changes[(p.kind, p.key)]) if (p.kind, p.key) in changes else p for p in published]
        for (kind, key), text in changes.items():
            if (kind, key) not in have:
                item = unit.item(kind, key)
                path = item.path if item else item_path(kind, key)
                out.append(Piece(kind, key, path, text, item.position if item else unit.next_position(path)))
        return out

    def _issues(self, unit: Unit, changed: list[Piece]) -> list[Issue]:
        published = [piece(i, r.document) for i, r in unit.published()]
        return self.checker.issues(unit.content_version(), published, changed)

    def _involved(self, unit: Unit, item: Item, version: int) -> set[str]:
        """Who wrote or submitted a revision of the change: every revision after the published one up to
        `version` (a revert counts as a change by its author)."""
        since = item.published_version or 0
        names = set()
        for revision in unit.revisions(item.id):
            if since < revision.version <= version:
                names.add(revision.author)
                if revision.submitted_by:
                    names.add(revision.submitted_by)
        return names

    @staticmethod
    def _item(unit: Unit, kind: str, key: str, for_update: bool = False) -> Item:
        item = unit.item(kind, key, for_update=for_update)
        if item is None:
            raise NotFound(f"{kind} {key}")
        return item

    @staticmethod
    def _revision(unit: Unit, item: Item, version: int) -> Revision:
        revision = unit.revision(item.id, version) if version else None
        if revision is None:
            raise NotFound(f"{item.kind} {item.key} version {version}")
        return revision

    def _newest(self, unit: Unit, item: Item, version: int, statuses: tuple[str, ...]) -> Revision:
        revision = self._revision(unit, item, version)
        if version != item.head_version:
            raise WorkflowError(f"{item.kind} {item.key}: version {version} is not the newest "
                                f"(version {item.head_version} is)")
        if revision.status not in statuses:
            raise WorkflowError(f"{item.kind} {item.key} version {version} is {revision.status}, "
                                f"not {' or '.join(statuses)}")
        return revision

    def _may_draft(self, actor: Actor, kind: str, key: str) -> None:
        if not actor.editor:
            raise self._refused(actor, "content_save_refused", kind, key, None,
                                f"{actor.name} ({actor.role}) may not edit content")
        if kind in PUBLISHER_ONLY_KINDS and not actor.publisher:
            raise self._refused(actor, "content_save_refused", kind, key, None, f"only publishers change {kind} items")

    def _refused(self, actor: Actor, action: str, kind: str, key: str, version: int | None, reason: str) -> Forbidden:
        """A refusal, written to the audit log (its own transaction: the refused change writes nothing)."""
        detail = {"kind": kind, "key": key, "reason": reason[:300]}
        if version is not None:
            detail["version"] = version
        with self.repository.unit() as unit:
            unit.audit(self.clock(), actor, action, detail)
        return Forbidden(reason)

    @staticmethod
    def _detail(item: Item, version: int, note: str) -> dict:
        detail = {"kind": item.kind, "key": item.key, "version": version}
        if note:
            detail["note"] = note[:500]
        return detail


def _scoring_changes(old: str, new: str) -> list[str]:
    """Paths of the offer check's scoring values that differ (weights, thresholds, flags, ...)."""
    try:
        before, after = flatten(item_data(OFFER_CHECK, OFFER_CHECK, old)), flatten(item_data(OFFER_CHECK, OFFER_CHECK, new))
    except LayoutError:
        return []

    def scoring(leaves):
        return {p: v[1] for p, v in leaves.items()
                if any(part.split("[")[0] in SCORING_KEYS for part in p.split("."))}

    a, b = scoring(before), scoring(after)
    return [p for p in sorted(set(a) | set(b)) if a.get(p) != b.get(p)]
