"""How content/ files map to workbench items, and back, byte for byte.

An item is identified by (kind, key). Its document is YAML text, exactly as it stands in its file, so
that a fresh seed exported again is the repository's files byte for byte:

| file (under content/)        | kind           | key                   | the item's text                          |
|------------------------------|----------------|-----------------------|------------------------------------------|
| topics/<id>.yml              | topic          | <id>                  | the whole file                           |
| facts.yml                    | fact           | the fact's id         | its entry under `facts:` (indented)      |
| offer_check.yml              | offer_check    | offer_check           | the whole file                           |
| safety/danger_lexicon.yml    | danger_lexicon | a top-level key       | that key's block (strong, sets, ...)     |
| glossary.yml                 | glossary       | a term                | its entry under `terms:` (indented)      |
| conversation.yml             | conversation   | a top-level key       | that key's block (crisis, phone, ...)    |
| any other *.yml (languages)  | file           | its path              | the whole file                           |
| nlu/entities/countries.txt   | countries      | countries             | the whole text (not under content/)      |

A file split into entries also has a `frame` item (key: the file's path) holding what is not an entry:
the header comment, the parent key, other top-level keys (JSON: {"before": ..., "after": ...}).
Comment lines directly above an entry (no blank line between) belong to that entry; blank lines end the
entry before. A file whose split does not give back exactly the same text and the same data is kept as
one `file` item, so nothing is ever lost by splitting.

An item saved from data (not text) is written in the canonical form: `yaml.safe_dump` with
allow_unicode, sort_keys=False, width 4096 (comments in that item are not kept); see `dump_entry`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

import yaml

from ..dialogue.content import load_yaml

TOPIC, FACT, OFFER_CHECK, DANGER, GLOSSARY, CONVERSATION, FILE, FRAME, COUNTRIES = (
    "topic", "fact", "offer_check", "danger_lexicon", "glossary", "conversation", "file", "frame", "countries")
KINDS = (TOPIC, FACT, OFFER_CHECK, DANGER, GLOSSARY, CONVERSATION, COUNTRIES, FILE, FRAME)
COUNTRIES_PATH = "nlu/entities/countries.txt"  # relative to the project, not to content/

# files split into entries: path -> (kind, parent key or None for top-level keys)
SPLIT = {"facts.yml": (FACT, "facts"), "safety/danger_lexicon.yml": (DANGER, None), "glossary.yml": (GLOSSARY, "terms"),
         "conversation.yml": (CONVERSATION, None)}
WHOLE = {"offer_check.yml": (OFFER_CHECK, "offer_check")}
_TOP_KEY = re.compile(r"^([A-Za-z_][\w\-]*):(?:\s|$)")


class LayoutError(ValueError):
    pass


@dataclass(frozen=True)
class Piece:
    kind: str
    key: str
    path: str  # the file it lives in (under content/, or COUNTRIES_PATH)
    text: str
    position: int  # its place in the file


def file_item(path: str) -> tuple[str, str]:
    """(kind, key) of a file kept whole."""
    if path in WHOLE:
        return WHOLE[path]
    if path.startswith("topics/") and path.endswith(".yml") and path.count("/") == 1:
        return TOPIC, path[len("topics/"):-len(".yml")]
    return FILE, path


_KEY = re.compile(r"^[A-Za-z_][\w\-]{0,127}$")
_PATH = re.compile(r"^[\w\-]+(/[\w\-]+)*\.yml$")


def check_key(kind: str, key: str) -> None:
    """A key that names an entry or a file under content/ and nothing outside it (LayoutError)."""
    if kind not in KINDS:
        raise LayoutError(f"unknown kind {kind!r}")
    if kind in (FILE, FRAME):
        if not _PATH.match(key) or len(key) > 200:
            raise LayoutError(f"{key!r} is not a file under content/")
    elif kind in (OFFER_CHECK, COUNTRIES):
        if key != kind:
            raise LayoutError(f"the {kind} item's key is {kind!r}")
    elif not _KEY.match(key):
        raise LayoutError(f"{key!r}: a key is letters, digits, _ and - (starting with a letter or _)")


def item_path(kind: str, key: str) -> str:
    """The file an item lives in."""
    if kind == TOPIC:
        return f"topics/{key}.yml"
    if kind in (FILE, FRAME):
        return key
    if kind == COUNTRIES:
        return COUNTRIES_PATH
    for path, (k, _parent) in SPLIT.items():
        if k == kind:
            return path
    for path, (k, _key) in WHOLE.items():
        if k == kind:
            return path
    raise LayoutError(f"unknown kind {kind!r}")


def entry_indent(kind: str) -> int:
    """How far an item's text is indented in its file (entries under a parent key: 2)."""
    for path, (k, parent) in SPLIT.items():
        if k == kind:
            return 2 if parent else 0
    return 0


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _split(text: str, parent: str | None) -> tuple[str, list[tuple[str, str]], str]:
    """(before, [(key, text)], after) of a file: the entries are the keys under `parent` (indented), or
    the top-level keys."""
    lines = text.splitlines(keepends=True)
    if parent is None:
        start, end, indent = 0, len(lines), ""
    else:
        head = next((i for i, line in enumerate(lines) if re.match(rf"^{re.escape(parent)}:\s*(#.*)?$", line)), None)
        if head is None:
            raise LayoutError(f"no `{parent}:` key")
        start = head + 1
        end = next((i for i in range(start, len(lines)) if lines[i][:1] not in (" ", "\t", "#", "\n", "\r", "")),
                   len(lines))
        first = next((lines[i] for i in range(start, end) if lines[i].strip() and not _is_comment(lines[i])), None)
        if first is None:
            return "".join(lines[:start]), [], "".join(lines[start:])
        indent = first[:len(first) - len(first.lstrip(" "))]
    key_line = re.compile(rf"^{indent}([A-Za-z_][\w\-]*):(?:\s|$)")
    keys = [(i, key_line.match(lines[i]).group(1)) for i in range(start, end) if key_line.match(lines[i])]
    if not keys:
        return "".join(lines[:end]), [], "".join(lines[end:])
    starts = []
    for n, (i, _key) in enumerate(keys):
        s = i
        if n > 0:  # comment lines right above a key are its own (not above the first: the file's header)
            while s - 1 > keys[n - 1][0] and _is_comment(lines[s - 1]):
                s -= 1
        starts.append(s)
    entries = []
    for n, (_i, key) in enumerate(keys):
        stop = starts[n + 1] if n + 1 < len(keys) else end
        entries.append((key, "".join(lines[starts[n]:stop])))
    return "".join(lines[:starts[0]]), entries, "".join(lines[end:])


def split_file(path: str, text: str) -> list[Piece]:
    """The items of one content file (a file that does not split cleanly: one `file` item)."""
    if path in SPLIT:
        kind, parent = SPLIT[path]
        try:
            before, entries, after = _split(text, parent)
            keys = [k for k, _t in entries]
            if len(set(keys)) != len(keys):
                raise LayoutError("a key is used twice")
            pieces = [Piece(FRAME, path, path, json.dumps({"before": before, "after": after}, ensure_ascii=False), 0)]
            pieces += [Piece(kind, key, path, body, n + 1) for n, (key, body) in enumerate(entries)]
            if assemble_file(pieces) != text:
                raise LayoutError("the pieces do not give the file back")
            if parse_data(pieces) != load_yaml(text):
                raise LayoutError("the pieces do not give the same data")
            return pieces
        except (LayoutError, yaml.YAMLError):
            return [Piece(FILE, path, path, text, 0)]
    kind, key = file_item(path)
    return [Piece(kind, key, path, text, 0)]


def split_documents(documents: Mapping[str, str]) -> list[Piece]:
    """Every item of a content folder given as documents ({path: text})."""
    return [piece for path in sorted(documents) for piece in split_file(path, documents[path])]


def frame_parts(text: str) -> tuple[str, str]:
    data = json.loads(text)
    return str(data.get("before", "")), str(data.get("after", ""))


def assemble_file(pieces: Iterable[Piece]) -> str:
    """One file's text from its pieces (a frame and its entries in position order, or one whole item)."""
    pieces = list(pieces)
    frames = [p for p in pieces if p.kind == FRAME]
    entries = sorted((p for p in pieces if p.kind != FRAME), key=lambda p: (p.position, p.key))
    if not frames:
        if len(entries) != 1:
            raise LayoutError(f"{len(entries)} items for a file kept whole")
        return entries[0].text
    before, after = frame_parts(frames[0].text)
    return before + "".join(_ends_line(p.text) for p in entries) + after


def _ends_line(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def assemble(pieces: Iterable[Piece]) -> dict[str, str]:
    """{path: text} of every file (countries excluded: they are not under content/)."""
    by_path: dict[str, list[Piece]] = {}
    for piece in pieces:
        if piece.kind != COUNTRIES:
            by_path.setdefault(piece.path, []).append(piece)
    out = {}
    for path in sorted(by_path):
        group = by_path[path]
        if any(p.kind == FRAME for p in group) or len(group) == 1:
            out[path] = assemble_file(group)
    return out


def parse_data(pieces: list[Piece]) -> object:
    """The data the pieces of one file make together (to compare with the whole file's)."""
    text = assemble_file(pieces)
    return load_yaml(text)


def item_data(kind: str, key: str, text: str):
    """The value an item holds: for an entry, the value under its key; for a whole file, the file's data;
    for countries, {canonical: [variants]}; for a frame, {"before", "after"}. LayoutError when the text
    does not parse or names another key."""
    if kind == FRAME:
        try:
            before, after = frame_parts(text)
        except (ValueError, TypeError, AttributeError) as exc:
            raise LayoutError(f"not a frame: {exc}") from exc
        return {"before": before, "after": after}
    if kind == COUNTRIES:
        return read_countries_text(text)
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise LayoutError(f"not valid YAML: {exc}") from exc
    if kind in (FACT, DANGER, GLOSSARY, CONVERSATION):
        if not isinstance(data, dict) or list(data) != [key]:
            raise LayoutError(f"the text must hold exactly the key {key!r} (found {list(data or {})[:5]})")
        return data[key]
    return data


def read_countries_text(text: str) -> dict[str, list[str]]:
    """countries.txt: `canonical | variant | variant` per line, # comments (as bot/nlu/entities.py reads it)."""
    countries: dict[str, list[str]] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        canonical, *variants = [part.strip() for part in line.split("|")]
        if not canonical:
            raise LayoutError(f"line {n}: no canonical name before the first |")
        if canonical in countries:
            raise LayoutError(f"line {n}: {canonical!r} is listed twice")
        countries[canonical] = [v for v in variants if v]
    return countries


def dump_entry(kind: str, key: str, data) -> str:
    """The canonical text of an item saved from data."""
    if kind == FRAME:
        return json.dumps({"before": data.get("before", ""), "after": data.get("after", "")}, ensure_ascii=False)
    if kind == COUNTRIES:
        return "".join(" | ".join([name, *variants]) + "\n" for name, variants in data.items())
    dump = dict(allow_unicode=True, sort_keys=False, width=4096, default_flow_style=False)
    if kind in (FACT, DANGER, GLOSSARY, CONVERSATION):
        text = yaml.safe_dump({key: data}, **dump)
        pad = " " * entry_indent(kind)
        return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))
    return yaml.safe_dump(data, **dump)


def normalise_text(kind: str, text: str) -> str:
    """An entry's text as typed (maybe without its indentation) made to fit its file; a final newline."""
    text = text.replace("\r\n", "\n")
    pad = " " * entry_indent(kind)
    if pad:
        first = next((line for line in text.splitlines() if line.strip() and not _is_comment(line)), "")
        if first and not first.startswith(pad):
            text = "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))
    return _ends_line(text)
