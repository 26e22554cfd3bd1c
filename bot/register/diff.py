"""What an import changes, shown before it is confirmed: agencies new on the register, gone from it,
with another status, with the expiry date moved; notices and the agency each is linked to (by the
licence number it names, else by a fuzzy name match that a person must confirm)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from .match import Register
from .parse import Agency, Notice, RowError


@dataclass
class Diff:
    new: list[Agency] = field(default_factory=list)
    gone: list[dict] = field(default_factory=list)  # rows of the previous snapshot
    status: list[tuple[Agency, str]] = field(default_factory=list)  # (agency now, status before)
    expiry: list[tuple[Agency, date | None]] = field(default_factory=list)  # (agency now, expiry before)
    unchanged: int = 0
    first: bool = False  # no earlier snapshot

    @property
    def empty(self) -> bool:
        return not (self.new or self.gone or self.status or self.expiry)

    def counts(self) -> dict:
        return {"new": len(self.new), "gone": len(self.gone), "status": len(self.status),
                "expiry": len(self.expiry), "unchanged": self.unchanged}


@dataclass
class NoticeLink:
    notice: Notice
    licence: str | None = None
    by: str | None = None  # licence | name (to be confirmed) | None (no agency found)
    title: str = ""  # the agency's name on the register
    score: float = 0.0


def diff(previous: dict[str, dict], agencies: list[Agency]) -> Diff:
    """previous: licence -> row (Agency.as_row()) of the last confirmed snapshot."""
    out = Diff(first=not previous)
    current = {a.licence for a in agencies}
    for agency in agencies:
        before = previous.get(agency.licence)
        if before is None:
            out.new.append(agency)
            continue
        changed = False
        if before["status"] != agency.status:
            out.status.append((agency, before["status"]))
            changed = True
        if before.get("expiry") != agency.expiry:
            out.expiry.append((agency, before.get("expiry")))
            changed = True
        out.unchanged += not changed
    out.gone = [row for number, row in sorted(previous.items()) if number not in current]
    return out


_NAME_AFTER = re.compile(r"\b(?:m\s*/\s*s\.?|messrs\.?)\s+(.+)", re.IGNORECASE)
_NAME_TAIL = re.compile(r"\s*(?:\(|,|\bOEPL?\b|\blicen[cs]e\b|\bdated\b).*$", re.IGNORECASE)
_NAME_BEFORE = re.compile(r"^.*?\b(?:notice|warning|suspension|blacklisting|restoration|cancellation)\b"
                          r"(?:\s+of\s+licen[cs]e)?\s+(?:to|of|against|for)\s+", re.IGNORECASE)


def notice_firm(title: str) -> str:
    """The firm a notice's title names: after "M/s", else after "notice to" / "suspension of"."""
    match = _NAME_AFTER.search(title)
    name = match.group(1) if match else _NAME_BEFORE.sub("", title)
    return _NAME_TAIL.sub("", name).strip(" .-:")


def link_notices(notices: list[Notice], register: Register) -> list[NoticeLink]:
    links = []
    for notice in notices:
        if notice.licences:
            number = notice.licences[0]
            entry = register.by_licence.get(number)
            links.append(NoticeLink(notice, number, "licence", entry.agency.title if entry else "", 100.0))
            continue
        firm = notice_firm(notice.title)
        found = register.by_name(firm) if firm else None
        if found is not None and found.kind == "name":
            entry = found.entries[0]
            links.append(NoticeLink(notice, entry.agency.licence, "name", entry.agency.title, found.scores[0]))
        else:
            links.append(NoticeLink(notice))
    return links


def render(result: Diff | None, links: list[NoticeLink], errors: list[RowError], limit: int = 50) -> str:
    """The preview as plain text (the command line; the console renders the same Diff as a page)."""
    lines = []
    if errors:
        lines.append(f"{len(errors)} problem(s): nothing will be imported.")
        lines += [f"  {e}" for e in errors[:limit]]
        if len(errors) > limit:
            lines.append(f"  ... and {len(errors) - limit} more")
        return "\n".join(lines)
    counts = result.counts()
    lines.append("Changes since the last import:" if not result.first else "First import: every agency is new.")
    lines.append(f"  new {counts['new']}, gone {counts['gone']}, status changed {counts['status']}, "
                 f"expiry moved {counts['expiry']}, unchanged {counts['unchanged']}")

    def section(title, items, fmt):
        if items:
            lines.append(title)
            lines.extend("  " + fmt(item) for item in items[:limit])
            if len(items) > limit:
                lines.append(f"  ... and {len(items) - limit} more")
    if not result.first:
        section("New:", result.new, lambda a: f"{a.licence}  {a.title}  ({a.status})")
    section("Gone:", result.gone, lambda r: f"{r['licence']}  {r['title']}  (was {r['status']})")
    section("Status changed:", result.status, lambda p: f"{p[0].licence}  {p[0].title}: {p[1]} -> {p[0].status}")
    section("Expiry moved:", result.expiry,
            lambda p: f"{p[0].licence}  {p[0].title}: {p[1] or '-'} -> {p[0].expiry or '-'}")
    if links:
        lines.append(f"Notices: {len(links)}")
        for link in links[:limit]:
            head = f"  {link.notice.day}  {link.notice.kind}: {link.notice.title}"
            if link.by == "licence":
                lines.append(f"{head}\n      -> {link.licence} {link.title}".rstrip())
            elif link.by == "name":
                lines.append(f"{head}\n      -> by name, to confirm: {link.licence} {link.title} ({link.score:.0f})")
            else:
                lines.append(f"{head}\n      -> no agency found: kept without a link")
    return "\n".join(lines)
