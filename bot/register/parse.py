"""Reading what BE&OE publishes: saved pages of its `list-of-oeps` table (HTML), a CSV with the same
columns, and disciplinary notices (title, date, body).

The HTML is read with the standard library's html.parser: the table whose header names a licence
number column; `<br>` and block elements inside a cell become line breaks, whitespace and `&nbsp;`
collapse. Every problem is collected with its file and row (`RowError`), so that an import refuses a
file as a whole and says where it went wrong.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

from . import licence as lic

STATUSES = ("valid", "expired", "suspended", "cancelled", "surrendered", "invalid", "blacklisted")
_STATUS_WORDS = {
    "active": "valid", "valid": "valid", "licensed": "valid", "renewed": "valid",
    "expired": "expired", "expire": "expired",
    "suspended": "suspended", "suspend": "suspended",
    "canceled": "cancelled", "cancelled": "cancelled", "cancel": "cancelled", "revoked": "cancelled",
    "surrendered": "surrendered", "surrender": "surrendered",
    "invalid": "invalid", "in-active": "invalid", "inactive": "invalid",
    "blacklisted": "blacklisted", "black listed": "blacklisted", "black-listed": "blacklisted", "banned": "blacklisted",
}
_DATE_FORMATS = ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y", "%d %b %Y", "%d %B %Y", "%d-%b-%Y", "%d-%B-%Y",
                 "%b %d, %Y", "%B %d, %Y", "%d %b, %Y", "%d-%b-%y", "%d-%m-%y", "%d/%m/%y")
_EMPTY = {"", "-", "--", "—", "n/a", "na", "nil", "none", "null"}

COLUMNS = {  # field -> header words that name it (lower-case, compared after removing punctuation)
    "licence": ("licence no", "license no", "licence number", "license number", "lic no", "oep no", "licence"),
    "proprietor": ("proprietor name", "proprietor", "owner name", "owner"),
    "title": ("licence title", "license title", "oep name", "title", "name of oep", "firm name"),
    "status": ("status",),
    "expiry": ("expiry date", "expiry", "valid upto", "valid up to", "validity", "date of expiry"),
    "head_office": ("head office", "address"),
    "branches": ("branch office(s)", "branch offices", "branch office", "branches", "branch"),
}
REQUIRED = ("licence", "title", "status")


@dataclass
class Agency:
    licence: str  # NNNN/REG
    title: str
    status: str  # one of STATUSES
    proprietor: str = ""
    expiry: date | None = None
    head_office: str = ""
    branches: str = ""
    raw_status: str = ""
    source: str = ""  # file and row, for the import's messages

    @property
    def city(self) -> str:
        return lic.city(self.licence)

    def as_row(self) -> dict:
        row = asdict(self)
        row.pop("source")
        return row

    def same(self, other: "Agency") -> bool:
        return self.as_row() == other.as_row()


@dataclass
class Notice:
    title: str
    day: date
    body: str = ""
    kind: str = "notice"  # show_cause | warning | suspension | blacklisting | restoration | cancellation | notice
    licences: list[str] = field(default_factory=list)  # licence numbers named in the title or body
    source: str = ""


@dataclass
class RowError:
    source: str  # "file.html, row 12"
    problem: str

    def __str__(self) -> str:
        return f"{self.source}: {self.problem}"


class ParseError(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


# -- cells ---------------------------------------------------------------------------------------------------

def clean_cell(text: str) -> str:
    """Whitespace of a cell collapsed; line breaks kept (one per line), empty lines dropped."""
    lines = [" ".join(line.replace("\xa0", " ").split()) for line in (text or "").splitlines()]
    return "\n".join(line for line in lines if line)


def status_of(raw: str) -> str | None:
    words = " ".join(raw.lower().replace("_", " ").split()).strip(" .")
    if words in _STATUS_WORDS:
        return _STATUS_WORDS[words]
    for word, status in _STATUS_WORDS.items():  # "Licence Expired", "Cancelled by DG"
        if re.search(rf"\b{re.escape(word)}\b", words):
            return status
    return None


def date_of(raw: str) -> date | None:
    """A date as the register writes it; raises ValueError for text that is not one."""
    text = " ".join(raw.replace("\xa0", " ").split()).strip(" .")
    if text.lower() in _EMPTY:
        return None
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {raw.strip()!r}")


def _column_of(header: str) -> str | None:
    words = " ".join(re.sub(r"[^a-z()]+", " ", header.lower()).split())
    bare = words.replace("(", "").replace(")", "").strip()
    for name, names in COLUMNS.items():
        if words in names or bare in names:
            return name
    for name, names in COLUMNS.items():  # "Licence No." with odd spacing, "Head Office (Address & Phone)"
        if any(bare.startswith(n) for n in names):
            return name
    return None


def agency_from(cells: dict[str, str], source: str, errors: list[RowError]) -> Agency | None:
    """One row (field -> cell text) as an Agency, or None with the problems added to errors."""
    problems = []
    number = lic.normalise(cells.get("licence", ""))
    if number is None:
        problems.append(f"licence number {cells.get('licence', '')!r} is not like 1234/RWP")
    title = " ".join(clean_cell(cells.get("title", "")).split())
    if not title:
        problems.append("the licence title is empty")
    raw_status = " ".join(cells.get("status", "").split())
    status = status_of(raw_status)
    if status is None:
        problems.append(f"unknown status {raw_status!r}")
    expiry = None
    try:
        expiry = date_of(cells.get("expiry", ""))
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        errors.extend(RowError(source, p) for p in problems)
        return None
    return Agency(licence=number, title=title, status=status, raw_status=raw_status,
                  proprietor=" ".join(_text(cells, "proprietor").split()), expiry=expiry,
                  head_office=_text(cells, "head_office"), branches=_text(cells, "branches"), source=source)


def _text(cells: dict[str, str], name: str) -> str:
    value = clean_cell(cells.get(name, ""))
    return "" if value.lower() in _EMPTY else value


# -- HTML ----------------------------------------------------------------------------------------------------

_BREAKS = {"br", "p", "div", "li", "tr", "ul", "ol", "hr"}


class _Tables(HTMLParser):
    """Every table of a page as rows of (tag, text) cells; nested tables are read as their own."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[tuple[str, str, int]]]] = []
        self._stack: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._stack.append({"rows": [], "row": None, "cell": None})
            return
        if not self._stack:
            return
        table = self._stack[-1]
        if tag == "tr":
            self._end_row(table)
            table["row"] = []
        elif tag in ("td", "th"):
            self._end_cell(table)
            if table["row"] is None:
                table["row"] = []
            span = dict(attrs).get("colspan") or "1"
            table["cell"] = [tag, [], int(span) if span.isdigit() else 1]
        elif tag in _BREAKS and table["cell"] is not None:
            table["cell"][1].append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag == "br" and self._stack and self._stack[-1]["cell"] is not None:
            self._stack[-1]["cell"][1].append("\n")

    def handle_endtag(self, tag):
        if not self._stack:
            return
        table = self._stack[-1]
        if tag == "table":
            self._end_row(table)
            self.tables.append(table["rows"])
            self._stack.pop()
        elif tag == "tr":
            self._end_row(table)
        elif tag in ("td", "th"):
            self._end_cell(table)
        elif tag in _BREAKS and table["cell"] is not None:
            table["cell"][1].append("\n")

    def handle_data(self, data):
        if self._stack and self._stack[-1]["cell"] is not None:
            self._stack[-1]["cell"][1].append(data)

    @staticmethod
    def _end_cell(table):
        if table["cell"] is not None:
            tag, parts, span = table["cell"]
            table["row"].append((tag, "".join(parts), span))
            table["cell"] = None

    def _end_row(self, table):
        self._end_cell(table)
        if table["row"]:
            table["rows"].append(table["row"])
        table["row"] = None

    def close(self):
        super().close()
        while self._stack:  # a page saved half-way: keep what was read
            table = self._stack.pop()
            self._end_row(table)
            self.tables.append(table["rows"])


def parse_html(text: str, name: str = "page.html") -> tuple[list[Agency], list[RowError]]:
    """The agencies of one saved page of the list of OEPs, and the problems found (file, row, what)."""
    parser = _Tables()
    parser.feed(text)
    parser.close()
    errors: list[RowError] = []
    for rows in parser.tables:
        header_index = None
        columns: list[str | None] = []
        for index, row in enumerate(rows):
            names = []
            for _tag, cell, span in row:
                names += [_column_of(clean_cell(cell))] + [None] * (span - 1)
            if "licence" in names and "title" in names:
                header_index, columns = index, names
                break
        if header_index is None:
            continue
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            return [], [RowError(name, f"the table has no column for {', '.join(missing)}")]
        agencies = []
        for number, row in enumerate(rows[header_index + 1:], start=1):
            cells: list[str] = []
            for _tag, cell, span in row:
                cells += [cell] + [""] * (span - 1)
            source = f"{name}, row {number}"
            if len(row) == 1 or all(not clean_cell(c) for c in cells):
                continue  # "No record found", an empty spacer row, a pagination row inside the table
            if len(cells) != len(columns):
                errors.append(RowError(source, f"{len(cells)} cells where the header has {len(columns)}"))
                continue
            values = {col: cell for col, cell in zip(columns, cells) if col}
            agency = agency_from(values, source, errors)
            if agency is not None:
                agencies.append(agency)
        return agencies, errors
    return [], [RowError(name, "no table with the columns Licence No. and Licence Title was found")]


# -- CSV -----------------------------------------------------------------------------------------------------

def parse_csv(text: str, name: str = "register.csv") -> tuple[list[Agency], list[RowError]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        return [], [RowError(name, "the file is empty")]
    columns = [_column_of(h) for h in header]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        return [], [RowError(f"{name}, line 1", f"no column for {', '.join(missing)} in the header")]
    agencies, errors = [], []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        source = f"{name}, line {line}"
        if len(row) != len(columns):
            errors.append(RowError(source, f"{len(row)} fields where the header has {len(columns)}"))
            continue
        agency = agency_from({c: v for c, v in zip(columns, row) if c}, source, errors)
        if agency is not None:
            agencies.append(agency)
    return agencies, errors


# -- notices -------------------------------------------------------------------------------------------------

NOTICE_KINDS = (  # the first that matches the title wins
    ("restoration", ("restor", "revocation of suspension", "withdrawal of suspension", "lifted")),
    ("blacklisting", ("blacklist", "black list", "black-list", "debar", "banned")),
    ("cancellation", ("cancel",)),
    ("suspension", ("suspen",)),
    ("show_cause", ("show cause", "show-cause", "showcause")),
    ("warning", ("warning", "warned")),
)


def notice_kind(title: str) -> str:
    lowered = title.lower()
    for kind, words in NOTICE_KINDS:
        if any(w in lowered for w in words):
            return kind
    return "notice"


def parse_notices(text: str, name: str = "notices.csv") -> tuple[list[Notice], list[RowError]]:
    """Notices as a CSV with the columns title, date, body (the news items' title, date and text)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
    if "title" not in fields or "date" not in fields:
        return [], [RowError(f"{name}, line 1", "a notices file needs the columns title, date and body")]
    notices, errors = [], []
    for row in reader:
        source = f"{name}, line {reader.line_num}"
        title = " ".join((row.get(fields["title"]) or "").split())
        body = clean_cell(row.get(fields.get("body", ""), "") or "") if "body" in fields else ""
        if not title:
            errors.append(RowError(source, "the title is empty"))
            continue
        try:
            day = date_of(row.get(fields["date"]) or "")
        except ValueError as exc:
            errors.append(RowError(source, str(exc)))
            continue
        if day is None:
            errors.append(RowError(source, "the date is empty"))
            continue
        numbers = lic.find(title) or lic.find(body)
        notices.append(Notice(title=title, day=day, body=body, kind=notice_kind(title), licences=numbers,
                              source=source))
    return notices, errors


# -- files ---------------------------------------------------------------------------------------------------

def kind_of(name: str, text: str) -> str:
    """html | csv | notices: by the name, else by the content."""
    lowered = name.lower()
    head = text.lstrip("\ufeff")[:2000].lower()
    if lowered.endswith((".html", ".htm")) or "<table" in head or "<html" in head:
        return "html"
    first_line = head.splitlines()[0] if head else ""
    if "notice" in lowered or ("title" in first_line and "date" in first_line and "licence title" not in first_line):
        return "notices"
    return "csv"


@dataclass
class Parsed:
    agencies: list[Agency] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def parse_files(files: list[tuple[str, bytes | str]]) -> Parsed:
    """Every file (name, content) read; agencies of several pages together, duplicates across pages (a
    page saved twice, a row that moved to the next page) kept once, a licence with two different rows
    an error."""
    out = Parsed()
    seen: dict[str, Agency] = {}
    for name, content in files:
        name = Path(name).name
        out.files.append(name)
        if isinstance(content, bytes):
            try:
                text = content.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = content.decode("cp1252", errors="replace")
        else:
            text = content
        kind = kind_of(name, text)
        if kind == "notices":
            notices, errors = parse_notices(text, name)
            out.notices += notices
            out.errors += errors
            continue
        agencies, errors = parse_html(text, name) if kind == "html" else parse_csv(text, name)
        out.errors += errors
        for agency in agencies:
            earlier = seen.get(agency.licence)
            if earlier is None:
                seen[agency.licence] = agency
                out.agencies.append(agency)
            elif not earlier.same(agency):
                out.errors.append(RowError(agency.source, f"licence {agency.licence} is also in {earlier.source} "
                                                          "with different details"))
    return out
