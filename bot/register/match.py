"""Finding an agency on the register: by licence number (exact), or by name with fuzzy matching
(rapidfuzz).

Names are compared without their legal and trade noise ("M/s", "Pvt Ltd", "(Private) Limited",
"Overseas Employment Promoters", "Manpower", "International", "Travel & Tours"), in any word order and
with typos; a name typed in Urdu script is transliterated and compared by its consonant skeleton.

The answer is one agency only when its score is high and clearly above the next; several close,
plausible ones are offered to choose from; below the plausible line the answer is "not found": a weak
match is never presented as the agency.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from rapidfuzz import fuzz, process

from . import licence as lic
from .parse import Agency, Notice
from .translit import has_urdu, skeleton, to_latin

NOISE_PHRASES = (
    "overseas employment promoters", "overseas employment promoter", "overseas employment", "employment promoters",
    "travel and tours", "travels and tours", "travel & tours", "travel n tours", "tours and travels",
    "tours & travels", "private limited", "pvt limited", "pvt ltd", "man power", "recruiting agency",
)
NOISE_WORDS = {
    "m/s", "ms", "messrs", "pvt", "private", "ltd", "limited", "smc", "overseas", "employment", "promoters",
    "promoter", "promotors", "oep", "oepl", "manpower", "international", "intl", "int", "travel", "travels", "tours",
    "tour", "and", "n", "the", "co", "company", "agency", "agencies", "services", "service", "of", "consultants",
    "consultant", "consultancy", "enterprises", "enterprise", "recruitment", "recruiting", "recruiters", "bureau",
}
# a question around the name, dropped from queries only: "is X licensed?", "X ka licence check karo"
QUERY_WORDS = {
    "is", "licensed", "license", "licence", "registered", "genuine", "valid", "check", "agent", "ka", "ki",
    "ke", "kya", "hai", "karo", "kro", "karein", "please", "plz", "firm", "name", "no", "number", "this",
    "legal", "fake", "verify", "about", "wali", "wala", "walay",
}
STRONG = 90  # the top score at or above which one agency may be the answer
MARGIN = 6  # ... if the next agency scores at least this much lower
PLAUSIBLE = 82  # candidates at or above this are offered to choose from
SKELETON_STRONG, SKELETON_PLAUSIBLE = 88, 80  # the same lines for names typed in Urdu script
SUBSET_WEIGHT = 0.88  # a part of a name (one word of three) is plausible, never the answer by itself
MAX_CHOICES = 5
CANDIDATES = 20  # names scored in detail after the first pass over the register
STALE_DAYS = 30

# statuses after notices: the last suspension, blacklisting, cancellation or restoration decides
_NOTICE_STATUS = {"suspension": "suspended", "blacklisting": "blacklisted", "cancellation": "cancelled"}


def name_key(text: str, query: bool = False) -> str:
    """A firm's name without noise, punctuation and case: the text the matcher compares. A name made only
    of noise keeps its words."""
    text = unicodedata.normalize("NFKC", text).lower().replace("&", " and ")
    text = re.sub(r"\bm\s*/\s*s\b\.?", " ", text)
    text = re.sub(r"[()\[\]{}.,;:!?\"'’`/\\|_*+#@-]", " ", text)
    text = original = " ".join(text.split())
    for phrase in NOISE_PHRASES:
        text = re.sub(rf"\b{re.escape(phrase)}\b", " ", text)
    words = [w for w in text.split() if w not in NOISE_WORDS and not (query and w in QUERY_WORDS)]
    return " ".join(words) or original


def _full(text: str) -> str:
    """A name with its noise words, for telling apart names that are the same without them."""
    text = unicodedata.normalize("NFKC", text).lower().replace("&", " and ")
    text = re.sub(r"\bm\s*/\s*s\b\.?", " ", text)
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


@dataclass
class Entry:
    agency: Agency
    status: str  # after notices and the expiry date
    notices: list[Notice] = field(default_factory=list)


@dataclass
class Lookup:
    """kind: licence (found by number) | name (one agency by name) | choose (several plausible) |
    none (nothing on the register) | empty (no register loaded)."""
    kind: str
    query: str
    entries: list[Entry] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    by: str = "name"  # name | licence | number (a number without its region)


class Register:
    """One snapshot of the register, indexed for lookups; built once per import."""

    def __init__(self, agencies: list[Agency], register_date: date | None, notices: list[Notice] = (),
                 today: date | None = None, source: str = "", import_id: int | None = None):
        self.register_date = register_date
        self.source = source
        self.import_id = import_id
        today = today or date.today()
        by_licence: dict[str, list[Notice]] = {}
        for notice in sorted(notices, key=lambda n: n.day):
            for number in notice.licences:
                by_licence.setdefault(number, []).append(notice)
        self.entries: list[Entry] = []
        self.by_licence: dict[str, Entry] = {}
        self.by_number: dict[int, list[Entry]] = {}
        for agency in agencies:
            entry = Entry(agency, effective_status(agency, by_licence.get(agency.licence, []), register_date, today),
                          by_licence.get(agency.licence, []))
            self.entries.append(entry)
            self.by_licence[agency.licence] = entry
            self.by_number.setdefault(int(agency.licence.split("/")[0]), []).append(entry)
        self.keys = [name_key(e.agency.title) for e in self.entries]
        self.compact = [k.replace(" ", "") for k in self.keys]
        self.skeletons = [skeleton(k) for k in self.keys]
        self.skeletons_compact = [k.replace(" ", "") for k in self.skeletons]
        self.fulls = [_full(e.agency.title) for e in self.entries]

    def __len__(self) -> int:
        return len(self.entries)

    def stale(self, today: date) -> bool:
        return self.register_date is None or today - self.register_date > timedelta(days=STALE_DAYS)

    # -- lookups ---------------------------------------------------------------------------------------------
    def lookup(self, query: str) -> Lookup:
        query = " ".join((query or "").split())[:200]
        numbers = lic.find(query)
        if numbers:
            found = [self.by_licence[n] for n in numbers if n in self.by_licence]
            if found:
                return Lookup("licence", query, found[:1], [100.0], by="licence")
            return Lookup("none", query, by="licence")
        number = lic.bare_number(query)
        if number is not None:
            found = self.by_number.get(number, [])
            if len(found) == 1:
                return Lookup("licence", query, found, [100.0], by="number")
            if found:
                return Lookup("choose", query, found[:MAX_CHOICES], [100.0] * len(found[:MAX_CHOICES]), by="number")
            return Lookup("none", query, by="number")
        return self.by_name(query)

    def by_name(self, query: str) -> Lookup:
        urdu = has_urdu(query)
        latin = to_latin(query) if urdu else query
        key = name_key(latin, query=True)
        if not key or not self.entries:
            return Lookup("none", query)
        if urdu:
            bones = skeleton(key)
            scored = self._scores(bones, self.skeletons)
            scored += self._scores(bones.replace(" ", ""), self.skeletons_compact, scorer=fuzz.ratio)
            strong, plausible = SKELETON_STRONG, SKELETON_PLAUSIBLE
        else:
            scored = self._scores(key, self.keys)
            compact = key.replace(" ", "")
            for index, score in self._scores(compact, self.compact, scorer=fuzz.ratio):
                scored.append((index, score))
            strong, plausible = STRONG, PLAUSIBLE
        best: dict[int, float] = {}
        for index, score in scored:
            if score > best.get(index, -1):
                best[index] = score
        words = (skeleton(key) if urdu else key).split()
        names = self.skeletons if urdu else self.keys
        for index in list(best):  # word by word: a name with a word left out and a typo in another
            best[index] = max(best[index], align(words, names[index].split()))
        ranked = sorted(best.items(), key=lambda item: (-item[1], self.keys[item[0]]))
        if not ranked or ranked[0][1] < plausible:
            return Lookup("none", query)
        top = ranked[0][1]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        if top >= strong and top - second >= MARGIN:
            return Lookup("name", query, [self.entries[ranked[0][0]]], [top])
        close = [(i, s) for i, s in ranked if s >= plausible and s >= top - 10]
        if top >= strong and not urdu:
            # names that are the same without their noise ("X Manpower", "X Travel & Tours"): the full
            # names decide when the query carries the words that tell them apart
            full = _full(latin)
            tied = sorted(((fuzz.token_sort_ratio(full, self.fulls[i]), i) for i, s in close if s >= top - MARGIN),
                          reverse=True)
            if len(tied) > 1 and tied[0][0] >= strong and tied[0][0] - tied[1][0] >= MARGIN:
                return Lookup("name", query, [self.entries[tied[0][1]]], [float(tied[0][0])])
            order = {i: rank for rank, (_score, i) in enumerate(tied)}
            close.sort(key=lambda item: (order.get(item[0], len(order)), -item[1]))
        close = close[:MAX_CHOICES]
        return Lookup("choose", query, [self.entries[i] for i, _ in close], [s for _, s in close])

    @staticmethod
    def _scores(key: str, choices: list[str], scorer=None) -> list[tuple[int, float]]:
        """Word order and typos (token_sort_ratio); a word left out or added (token_set_ratio, a little
        lower, so that a part never outranks the whole name). One pass of rapidfuzz's C code over the
        register (token_set_ratio, which is never below token_sort_ratio's candidates' cut), then both
        scores for the dozen candidates it finds. `scorer`: a single plain pass instead."""
        if scorer is not None:
            return [(index, score) for _c, score, index in
                    process.extract(key, choices, scorer=scorer, limit=12, score_cutoff=PLAUSIBLE - 10)]
        out = []
        for choice, score, index in process.extract(key, choices, scorer=fuzz.token_set_ratio, limit=CANDIDATES,
                                                    score_cutoff=50):
            out.append((index, max(score * SUBSET_WEIGHT, fuzz.token_sort_ratio(key, choice))))
        return out

def align(query: list[str], name: list[str]) -> float:
    """Each query word against its best word of the name (fuzz.ratio, weighted by length), lowered when
    the query covers only part of the name: all words of a three-word name typed with a typo score about
    as high as the whole name; two of its three words at most about 88 (plausible, offered, never the
    answer by itself); a query word that matches nothing pulls the score down."""
    if not query or not name:
        return 0.0
    covered: set[int] = set()
    total = 0.0
    for word in query:
        score, index = max((fuzz.ratio(word, other), i) for i, other in enumerate(name))
        total += score * len(word)
        if score >= 75:
            covered.add(index)
    matched = total / sum(len(w) for w in query)
    coverage = sum(len(name[i]) for i in covered) / sum(len(w) for w in name)
    return matched if coverage >= 1 else matched * (0.8 + 0.15 * coverage)


def effective_status(agency: Agency, notices: list[Notice], register_date: date | None, today: date) -> str:
    """The register's status, then disciplinary notices dated on or after the register's day (a blacklisting holds
    until a later restoration), then a valid licence whose expiry date has passed is expired."""
    status = agency.status
    for notice in notices:  # oldest first
        newer = register_date is None or notice.day >= register_date  # same day: the page may predate it
        if notice.kind == "blacklisting":
            status = "blacklisted"
        elif notice.kind in _NOTICE_STATUS and newer:
            status = _NOTICE_STATUS[notice.kind]
        elif notice.kind == "restoration" and newer and status in ("suspended", "blacklisted"):
            status = "valid"
    if status == "valid" and agency.expiry is not None and agency.expiry < today:
        status = "expired"
    return status
