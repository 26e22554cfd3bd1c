"""The learning inbox's policy (issue 20): what a misunderstood message becomes before it is stored
(`candidate`: redacted, normalized, its detected entities moved onto the redacted text; None when it is in
the training data already), and the review (`Review`: groups with counts, label / out of scope / new
topic / ignore, and apply: the labelled examples written to the training data and the rows marked applied
in one transaction).

Sources: "fallback" (the bot did not understand), "ask_back" (it asked which topic was meant, or whether
someone is in danger), "not_helpful" (👎 under an answer), "staff" (relabelled from a case page).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

from ..storage import learning_store as db
from ..storage.db import utcnow
from .group import Group, cluster, near_any, normalize
from .redact import redact
from .training import ENTITIES, Labelled, TrainingIndex, plan_apply

SOURCES = ("fallback", "ask_back", "not_helpful", "staff")
DECISIONS = ("label", "out_of_scope", "new_topic", "ignore")
MAX_TEXT = 1000  # longer messages are long stories, not training examples: cut


def moved_entities(original: str, redacted: str, entities: Iterable[dict]) -> list[list]:
    """The NLU's country and amount spans (offsets in `original`) found again in the redacted text."""
    out: list[list] = []
    taken: list[tuple[int, int]] = []
    for entity in entities or ():
        kind = entity.get("entity")
        if kind not in ENTITIES or entity.get("start") is None:
            continue
        span = original[entity["start"]:entity["end"]]
        if not span.strip():
            continue
        at = redacted.find(span)
        while at >= 0 and any(at < e and s < at + len(span) for s, e in taken):
            at = redacted.find(span, at + 1)
        if at >= 0:
            taken.append((at, at + len(span)))
            out.append([at, at + len(span), kind])
    return sorted(out)


def candidate(text: str, language: str, source: str, names: Iterable[str] = (), intent: str | None = None,
              confidence: float | None = None, ranking: Iterable = (), entities: Iterable[dict] = (),
              training: TrainingIndex | None = None) -> dict | None:
    """The inbox row for a message (redacted), or None: nothing left, or in the training data already."""
    text = (text or "").strip()[:MAX_TEXT]
    if not text or text.startswith("/"):
        return None
    redacted = redact(text, names)
    norm = normalize(redacted)
    if not norm:
        return None
    if training is not None and (language, norm) in training:
        return None
    return {"language": language, "norm": norm, "text": redacted, "source": source, "intent": intent,
            "confidence": None if confidence is None else round(float(confidence), 4),
            "ranking": [[str(i), round(float(c), 4)] for i, c in list(ranking or [])[:4]],
            "entities": moved_entities(text, redacted, entities)}


@dataclass
class GroupView:
    """A group of near-identical rows as the review page shows it (the leader's text, language and NLU
    ranking; the count of every message in the group)."""
    leader: dict
    ids: list[int]
    count: int
    texts: list[str] = field(default_factory=list)  # the other rows' texts (a few)

    @property
    def id(self) -> int:
        return self.leader["id"]


@dataclass
class Applied:
    examples: int
    rows: int
    files: list[str]
    removed: int


class Review:
    """The review and apply of the inbox on `engine`; `data_dir`: the NLU training data (nlu/data;
    tests give a copy)."""

    def __init__(self, engine, data_dir: Path | str, clock: Callable[[], datetime] = utcnow):
        self.engine, self.data_dir, self.clock = engine, Path(data_dir), clock
        self.training = TrainingIndex(self.data_dir)

    # -- listing --------------------------------------------------------------------------------
    def groups(self, status: Iterable[str] = db.OPEN, **filters) -> list[GroupView]:
        """Open rows grouped (near-identical: one group), the biggest first. Rows whose text reached the
        training data meanwhile, or near a text ignored before, are taken out of the inbox here."""
        self.training.refresh()  # the data as it is now (an apply, or someone's commit, may have changed it)
        with self.engine.begin() as conn:
            rows = db.items(conn, statuses=tuple(status), **filters)
            ignored: dict[str, list[str]] = {}
            gone = []
            keep = []
            for row in rows:
                if row["status"] == "new":
                    lang = row["language"]
                    if lang not in ignored:
                        ignored[lang] = db.fingerprints(conn, lang)
                    if (lang, row["norm"]) in self.training or near_any(row["norm"], ignored[lang]):
                        gone.append(row["id"])
                        continue
                keep.append(row)
            db.close_known(conn, gone)
        by_id = {row["id"]: row for row in keep}
        # a labelled row and a new one are not one group: the reviewer sees what is decided
        views = []
        for group in cluster([(r["id"], f'{r["language"]}|{r["status"]}|{r["label"] or ""}', r["norm"], r["count"])
                              for r in keep]):
            members = [by_id[i] for i in group.ids]
            views.append(GroupView(members[0], group.ids, group.count, [m["text"] for m in members[1:6]]))
        views.sort(key=lambda v: (-v.count, v.id))
        return views

    def group_of(self, item_id: int, **filters) -> list[int]:
        for view in self.groups(**filters):
            if item_id in view.ids:
                return view.ids
        return [item_id]

    # -- decisions -----------------------------------------------------------------------------
    def decide(self, ids: Iterable[int], decision: str, by: str, intent: str | None = None,
               entities: dict[int, list] | None = None) -> int:
        """label (with an intent), out_of_scope, new_topic or ignore, on the rows still open. Ignore
        fingerprints the rows: the same text never comes back."""
        ids = list(ids)
        now = self.clock()
        with self.engine.begin() as conn:
            if decision == "label":
                if not intent:
                    raise ValueError("label needs an intent")
                return db.set_status(conn, ids, "labelled", by, now, label=intent, entities=entities)
            if decision == "out_of_scope":
                return db.set_status(conn, ids, "labelled", by, now, label="out_of_scope", entities=entities)
            if decision == "new_topic":
                return db.set_status(conn, ids, "new_topic", by, now)
            if decision == "ignore":
                rows = [r for r in db.items_by_id(conn, ids) if r["status"] in db.OPEN]
                db.fingerprint(conn, rows, "ignored", now)
                return db.set_status(conn, [r["id"] for r in rows], "ignored", by, now)
        raise ValueError(f"unknown decision {decision!r}")

    def reopen(self, ids: Iterable[int], by: str) -> int:
        """A labelled row or a new topic back to new (a reviewer's mistake, before it is applied)."""
        with self.engine.begin() as conn:
            return db.set_status(conn, ids, "new", by, self.clock(), only=("labelled", "new_topic"))

    # -- applying -------------------------------------------------------------------------------
    def pending(self) -> list[dict]:
        with self.engine.connect() as conn:
            return db.items(conn, statuses=("labelled",))

    def apply(self, by: str) -> Applied:
        """Every labelled row written to the training data and marked applied, in one transaction: the
        files are written inside it and restored when it fails."""
        now = self.clock()
        with self.engine.connect() as conn:
            transaction = conn.begin()
            written = False
            try:
                rows = db.items(conn, statuses=("labelled",), limit=100000)
                if not rows:
                    transaction.rollback()
                    return Applied(0, 0, [], 0)
                examples = [Labelled(r["language"], r["label"], r["text"],
                                     tuple(tuple(e) for e in (r["label_entities"] if r["label_entities"] is not None
                                                              else r["entities"]) or ()))
                            for r in rows]
                plan = plan_apply(self.data_dir, examples)
                db.mark_applied(conn, [r["id"] for r in rows], by, now)
                db.fingerprint(conn, rows, "applied", now)
                plan.write()
                written = True
                transaction.commit()
            except BaseException:
                if transaction.is_active:
                    transaction.rollback()
                if written:
                    plan.restore()
                raise
        return Applied(plan.added, len(rows), sorted(str(p.relative_to(self.data_dir)) for p in plan.texts),
                       plan.removed)

    # -- staff relabel from a case page ----------------------------------------------------------
    def relabel(self, text: str, language: str, intent: str, by: str, names: Iterable[str] = (),
                case_id: int | None = None, entities: Iterable[dict] = ()) -> str:
        """A staff member says which intent a user's message meant: a labelled row (editors see it and
        publishers apply it), also for a text in the training data (under another intent: apply moves
        it). Returns "added", "counted", "known" (applied or ignored before) or "empty"."""
        with self.engine.begin() as conn:
            row = candidate(text, language, "staff", list(names) + db.staff_names(conn), entities=entities)
            if row is None:
                return "empty"
            now = self.clock()
            result = db.add_item(conn, {**row, "status": "labelled", "label": intent, "labelled_by": by,
                                        "case_id": case_id}, now)
            if result == "counted":  # the same text was in the inbox already: the staff's label is set on it
                db.label_text(conn, language, row["norm"], intent, by, now, case_id)
            return result

    def new_topics(self) -> list[dict]:
        with self.engine.connect() as conn:
            return db.items(conn, statuses=("new_topic",))

    def feedback(self) -> list[dict]:
        with self.engine.connect() as conn:
            return db.feedback_counts(conn)


__all__ = ["Applied", "DECISIONS", "Group", "GroupView", "Review", "SOURCES", "candidate", "moved_entities"]
