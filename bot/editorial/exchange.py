"""Files in and out: `safesafar content export` writes the published state in content/'s layout (each
file exactly the text its items assemble to: exporting twice gives the same bytes, and a fresh seed
gives back the repository's files byte for byte); `safesafar content import` reads files as drafts."""
from __future__ import annotations

from pathlib import Path

from ..dialogue.content import read_documents
from .workbench import Workbench

NAMED = {"facts.yml": "facts.yml", "offer_check.yml": "offer_check.yml", "glossary.yml": "glossary.yml",
         "conversation.yml": "conversation.yml", "languages.yml": "languages.yml",
         "danger_lexicon.yml": "safety/danger_lexicon.yml"}


class ImportError_(ValueError):
    pass


def export(workbench: Workbench, target: Path, countries: Path | None = None, version: str = "published") -> list[Path]:
    """Writes every published file under `target` (and the country list to `countries` if given).
    Files under `target` that the database does not hold are left alone. Returns the files written."""
    written = []
    root = target.resolve()
    for relpath, text in workbench.published_documents().items():
        path = target / relpath
        if not path.resolve().is_relative_to(root):  # keys are checked when items are made; never write outside
            raise ValueError(f"{relpath!r} is outside {target}")
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, text)
        written.append(path)
    if countries is not None:
        text = workbench.countries_text(version)
        if text is not None:
            countries.parent.mkdir(parents=True, exist_ok=True)
            _write(countries, text)
            written.append(countries)
    return written


def _write(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    if not path.is_file() or path.read_bytes() != data:  # unchanged files keep their time stamps
        path.write_bytes(data)


def read_paths(paths: list[Path]) -> tuple[dict[str, str], str | None]:
    """({path under content/: text}, countries.txt's text or None) from files and content folders."""
    documents: dict[str, str] = {}
    countries = None
    for path in paths:
        if path.is_dir():
            documents.update(read_documents(path))
            if (path / "countries.txt").is_file():
                countries = (path / "countries.txt").read_text(encoding="utf-8")
            continue
        if not path.is_file():
            raise ImportError_(f"{path}: no such file or folder")
        if path.name == "countries.txt":
            countries = path.read_text(encoding="utf-8")
            continue
        documents[content_path(path)] = path.read_text(encoding="utf-8")
    return documents, countries


def content_path(path: Path) -> str:
    """Where a file belongs under content/: relative to the nearest folder holding languages.yml or named
    content, else by its name (topics/<name>.yml for a file in a folder named topics)."""
    resolved = path.resolve()
    for parent in resolved.parents:
        if (parent / "languages.yml").is_file() or parent.name == "content":
            return resolved.relative_to(parent).as_posix()
    if path.name in NAMED:
        return NAMED[path.name]
    if path.parent.name == "topics" and path.suffix == ".yml":
        return f"topics/{path.name}"
    raise ImportError_(f"{path}: cannot tell where it belongs under content/ (put it in a content folder's layout)")
