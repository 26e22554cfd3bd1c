"""Differences between two versions of an item, per language, and the places a fact is quoted."""
from __future__ import annotations

import difflib
from datetime import date

from .layout import LayoutError, item_data
from .model import Change, Diff

LANGUAGES = ("en", "ur", "ur-Latn")


def flatten(value, path: str = "", languages=LANGUAGES) -> dict[str, tuple[str | None, str]]:
    """{path: (language, text)} of every leaf; a list of plain values is one leaf (one line each)."""
    out: dict[str, tuple[str | None, str]] = {}

    def walk(node, path: str, language: str | None) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                key = str(key)
                walk(child, f"{path}.{key}" if path else key, key if key in languages else language)
        elif isinstance(node, list) and node and all(not isinstance(v, (dict, list)) for v in node):
            out[path] = (language, "\n".join(_text(v) for v in node))
        elif isinstance(node, list):
            for i, child in enumerate(node):
                walk(child, f"{path}[{i}]", language)
        else:
            out[path] = (language, _text(node))

    walk(value, path, None)
    return out


def _text(value) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _data(kind: str, key: str, text: str | None):
    if text is None:
        return {}
    try:
        return item_data(kind, key, text)
    except LayoutError:
        return {"(text)": text}


def diff(kind: str, key: str, old: str | None, new: str | None, old_version: int | None = None,
         new_version: int | None = None) -> Diff:
    """The changed values (per language) and a unified diff of the texts."""
    before, after = flatten(_data(kind, key, old)), flatten(_data(kind, key, new))
    changes = []
    for path in list(before) + [p for p in after if p not in before]:
        a, b = before.get(path), after.get(path)
        if a is None or b is None or a[1] != b[1]:
            changes.append(Change(path, (a or b)[0], a[1] if a else None, b[1] if b else None))
    text = "".join(difflib.unified_diff((old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
                                        f"{kind}/{key} v{old_version or 0}", f"{kind}/{key} v{new_version or 0}"))
    return Diff(kind, key, old_version, new_version, changes, text)


def line_diff(old: str | None, new: str | None) -> list[tuple[str, str]]:
    """A text change word by word, for showing one language's change: [(op, words)] with op in
    "=", "-", "+"."""
    a, b = (old or "").split(" "), (new or "").split(" ")
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("=", " ".join(a[i1:i2])))
        else:
            if i2 > i1:
                out.append(("-", " ".join(a[i1:i2])))
            if j2 > j1:
                out.append(("+", " ".join(b[j1:j2])))
    return out
