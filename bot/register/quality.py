"""Scores of the matcher on a labelled set (query, expected licence(s) or "none", category).

    answered  the matcher names one agency (by licence number or by name): it is presented as the agency
    top       the first agency it offers (the answer, or the first of several to choose from)

precision = answered correctly / answered (an answer to a "none" query is wrong);
recall = labelled queries whose top agency is right (for several expected licences: all offered) / labelled;
top_precision = top agency right / queries with any top agency (choices included).
"""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from .match import Register


def read(path: Path) -> list[tuple[str, set[str], str]]:
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [(r["query"], set() if r["expected"] == "none" else set(r["expected"].split("|")), r["category"])
            for r in rows]


def evaluate(register: Register, rows: list[tuple[str, set[str], str]]) -> dict:
    answered = answered_ok = topped = top_ok = labelled = recalled = 0
    misses: list[tuple[str, str, str, list[str]]] = []
    by_category: Counter = Counter()
    wrong_by_category: Counter = Counter()
    for query, expected, category in rows:
        result = register.lookup(query)
        offered = [e.agency.licence for e in result.entries]
        by_category[category] += 1
        ok = False
        if result.kind in ("licence", "name"):
            answered += 1
            if offered[0] in expected and len(expected) == 1:
                answered_ok += 1
        if offered:
            topped += 1
            if offered[0] in expected:
                top_ok += 1
        if expected:
            labelled += 1
            if len(expected) > 1:
                ok = result.kind == "choose" and set(offered) == expected
            else:
                ok = bool(offered) and offered[0] in expected
            recalled += ok
        else:
            ok = result.kind in ("none", "choose") and not (result.kind == "choose" and False)
            ok = result.kind == "none" or result.kind == "choose"  # never presented as the agency
        if not ok or (result.kind in ("licence", "name") and offered[0] not in expected):
            wrong_by_category[category] += 1
            misses.append((query, "|".join(sorted(expected)) or "none", result.kind, offered))
    return {
        "queries": len(rows), "answered": answered, "labelled": labelled,
        "precision": answered_ok / answered if answered else 1.0,
        "recall": recalled / labelled if labelled else 1.0,
        "top_precision": top_ok / topped if topped else 1.0,
        "categories": dict(by_category), "wrong": dict(wrong_by_category), "misses": misses,
    }
