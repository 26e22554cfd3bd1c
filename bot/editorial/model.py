"""The workbench's words: who acts, items and their revisions, what can go wrong. No framework imports."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .layout import COUNTRIES, DANGER, FACT, FILE, FRAME, SPLIT

EDITORS = ("editor", "supervisor", "admin")  # may draft
PUBLISHERS = ("supervisor", "admin")  # may approve, publish, reject (bot/web/framework.py's SUPERVISORS)
FOUR_EYES_KINDS = (FACT, DANGER)  # safety-critical: a second person approves
# the files holding them: their frame (or the whole file, if it does not split) can hold entries too
FOUR_EYES_FILES = tuple(sorted(path for path, (kind, _parent) in SPLIT.items() if kind in FOUR_EYES_KINDS))
PUBLISHER_ONLY_KINDS = (FILE, FRAME)  # languages.yml, the frames of split files: publishers draft them too
NOT_LIVE_KINDS = (COUNTRIES,)  # published here, used by the bot only after export + `safesafar nlu train`

DRAFT, PENDING, PUBLISHED, REJECTED, SUPERSEDED = "draft", "pending", "published", "rejected", "superseded"
STATUSES = (DRAFT, PENDING, PUBLISHED, REJECTED, SUPERSEDED)
OPEN = (DRAFT, PENDING)  # a working change: the item's newest revision, not yet decided

# offer_check.yml: what only publishers change (the scoring); editors change the questions and texts
SCORING_KEYS = frozenset({"weight", "critical", "thresholds", "unsure_factor", "unsure_limit", "level", "when",
                          "flag", "applies"})


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff member (name, console role, staff id) or a command line user (staff_id None)."""
    name: str
    role: str
    staff_id: int | None = None

    @property
    def publisher(self) -> bool:
        return self.role in PUBLISHERS

    @property
    def editor(self) -> bool:
        return self.role in EDITORS


@dataclass(frozen=True)
class Item:
    id: int
    kind: str
    key: str
    path: str  # its file (under content/, or nlu/entities/countries.txt)
    position: int
    head_version: int  # the newest revision's number (0: none yet)
    published_version: int | None  # the revision the bot serves (None: never published)

    @property
    def four_eyes(self) -> bool:
        return self.kind in FOUR_EYES_KINDS or (self.kind in (FILE, FRAME) and self.path in FOUR_EYES_FILES)

    @property
    def live(self) -> bool:
        return self.kind not in NOT_LIVE_KINDS


@dataclass(frozen=True)
class Revision:
    version: int
    status: str  # draft | pending | published | rejected | superseded
    document: str  # the item's YAML text (frames: JSON; countries: countries.txt lines)
    author: str
    author_id: int | None
    created_at: datetime
    note: str = ""  # the author's note
    base_version: int | None = None  # what the author started from
    reviewer: str | None = None  # who approved (published) or rejected it
    reviewer_id: int | None = None
    review_note: str = ""
    decided_at: datetime | None = None
    submitted_by: str | None = None
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class Issue:
    """A validation error, pointing at the field: kind/key of the item (None when it concerns several),
    the field path inside it ("answer", "unconfirmed", "question q3 ask", ...), the language."""
    message: str
    kind: str | None = None
    key: str | None = None
    field: str | None = None
    language: str | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Change:
    """One changed value between two versions: path inside the item ("answer.ur", "sources[0].url"),
    its language (None: not a text of one language), before and after (None: absent)."""
    path: str
    language: str | None
    old: str | None
    new: str | None


@dataclass(frozen=True)
class Diff:
    kind: str
    key: str
    old_version: int | None
    new_version: int | None
    changes: list[Change]
    text: str  # a unified diff of the two documents

    def by_language(self) -> dict[str | None, list[Change]]:
        out: dict[str | None, list[Change]] = {}
        for change in self.changes:
            out.setdefault(change.language, []).append(change)
        return out

    @property
    def empty(self) -> bool:
        return not self.changes and not self.text


@dataclass(frozen=True)
class Saved:
    """What save_draft (and revert, import) returns: the new revision, and the errors the content would
    have with it (they do not stop a draft from being saved; they stop it from being submitted and published)."""
    item: Item
    revision: Revision
    issues: list[Issue] = field(default_factory=list)


@dataclass(frozen=True)
class TopicStatus:
    """One row of the topics list: the published topic and its working change, per language."""
    key: str
    title: str  # English title
    published_version: int | None
    head_version: int
    head_status: str  # the newest revision's status (published: no working change)
    needs_review: bool  # a placeholder waiting for an editor
    reviewed: str | None  # the review date (ISO)
    review_overdue: bool  # reviewed more than a year ago (or never)
    missing: dict[str, list[str]]  # language -> fields without a text (title, answer, more)
    words: dict[str, int]  # language -> words of the rendered first message
    over_limit: list[str]  # languages whose first message is over the limit
    text: str  # every text of the topic (for a search)


@dataclass(frozen=True)
class Usage:
    """Where a fact is quoted ({fact:id})."""
    kind: str
    key: str
    path: str
    language: str | None


class EditorialError(Exception):
    pass


class NotFound(EditorialError):
    pass


class Forbidden(EditorialError):
    """The actor's role may not do this (an editor approving, anyone approving their own safety-critical change,
    an editor changing the offer check's scoring)."""


class WorkflowError(EditorialError):
    """Not possible in the revision's state (approving a draft not submitted, a version that is not the newest)."""


class Conflict(EditorialError):
    """The item changed since the editor loaded it: nothing was saved. `diff` is between what the editor
    started from (base_version) and what is current now (current_version)."""

    def __init__(self, kind: str, key: str, base_version: int, current_version: int, diff: Diff):
        super().__init__(f"{kind} {key}: changed since version {base_version} (now {current_version})")
        self.kind, self.key, self.base_version, self.current_version, self.diff = (kind, key, base_version,
                                                                                   current_version, diff)


class Invalid(EditorialError):
    """The change would make content that fails the checks (or does not parse): `issues` point to the fields."""

    def __init__(self, issues: list[Issue]):
        super().__init__("; ".join(i.message for i in issues[:5]) + (" ..." if len(issues) > 5 else ""))
        self.issues = issues
