"""Differences between two versions of a workbench item, per language, as side-by-side tables (difflib's
HtmlDiff, which escapes the texts). A text per language (a mapping whose keys are language codes, such as a
topic's `answer`, or a fact's `unconfirmed`) is compared language by language; everything else is compared
as YAML. Pure."""
from __future__ import annotations

import difflib
from dataclasses import dataclass

import yaml
from markupsafe import Markup


@dataclass
class Change:
    path: str  # "answer", "unconfirmed", "" (the rest of the item)
    language: str | None  # the language of a text per language, else None
    table: Markup

    @property
    def rtl(self) -> bool:
        return self.language == "ur"


def _load(text: str):
    try:
        return yaml.safe_load(text or "")
    except yaml.YAMLError:
        return None


def _unwrap(data, key: str | None):
    """An entry item's YAML is `key: {...}` (one mapping under its key): its value."""
    if isinstance(data, dict) and len(data) == 1 and key is not None and key in data and isinstance(data[key], dict):
        return data[key]
    return data


def _table(old: str, new: str, before: str, after: str) -> Markup:
    differ = difflib.HtmlDiff(tabsize=4, wrapcolumn=None)
    html = differ.make_table(old.splitlines(), new.splitlines(), before, after, context=True, numlines=2)
    return Markup(html.replace(' nowrap="nowrap"', ""))


def _dump(value) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=4096) if value not in (None, {}) else ""


def changes(old_text: str, new_text: str, languages, key: str | None = None, before: str = "",
            after: str = "") -> list[Change]:
    """What changed from old_text to new_text (YAML texts of one item): a table per changed language of every
    text per language, then one for the rest. An item that is not a mapping is compared as text."""
    languages = list(languages)
    old, new = _unwrap(_load(old_text), key), _unwrap(_load(new_text), key)
    if not isinstance(old, dict) and not isinstance(new, dict):
        return [Change("", None, _table(old_text, new_text, before, after))] if old_text != new_text else []
    old = old if isinstance(old, dict) else {}
    new = new if isinstance(new, dict) else {}
    out: list[Change] = []
    rest_old, rest_new = {}, {}
    for name in list(dict.fromkeys([*old, *new])):
        a, b = old.get(name), new.get(name)
        per_language = all(isinstance(v, dict) and v and set(v) <= set(languages) for v in (a, b) if v is not None)
        if per_language and (a is not None or b is not None):
            a, b = a or {}, b or {}
            for lang in languages:
                x, y = str(a.get(lang) or ""), str(b.get(lang) or "")
                if x != y:
                    out.append(Change(str(name), lang, _table(x, y, before, after)))
        else:
            if a is not None:
                rest_old[name] = a
            if b is not None:
                rest_new[name] = b
    if rest_old != rest_new:
        out.append(Change("", None, _table(_dump(rest_old), _dump(rest_new), before, after)))
    return out
