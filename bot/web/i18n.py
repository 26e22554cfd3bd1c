"""The console's interface strings: gettext catalogs in their own domain `console`
(locales/<lang>/LC_MESSAGES/console.po, compiled to .mo by `make locales`; a missing or stale .mo is
compiled in memory). Code and templates call `_("English text")`; the language is the current request's,
held in a context variable while a page renders.

Update the catalogs after changing strings: `.venv/bin/python -m bot.web.catalog`.
"""
from __future__ import annotations

import io
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from ..config import ROOT

LOCALES = ROOT / "locales"
DOMAIN = "console"
LANGUAGES = ("en", "ur")  # interface languages of the console
LANGUAGE_NAMES = {"en": "English", "ur": "اردو"}
RTL = frozenset({"ur"})

_cache: dict[tuple[str, Path], tuple[float, NullTranslations]] = {}
_lock = threading.Lock()
_current: ContextVar[NullTranslations] = ContextVar("console_translations", default=NullTranslations())


def interface_language(value: str | None) -> str:
    return value if value in LANGUAGES else "en"


def translations(language: str, locales_dir: Path = LOCALES) -> NullTranslations:
    folder = locales_dir / language / "LC_MESSAGES"
    mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    stamp = max((p.stat().st_mtime for p in (mo, po) if p.is_file()), default=0.0)
    with _lock:
        cached = _cache.get((language, locales_dir))
        if cached and cached[0] == stamp:
            return cached[1]
        loaded = _load(mo, po)
        _cache[(language, locales_dir)] = (stamp, loaded)
        return loaded


def _load(mo: Path, po: Path) -> NullTranslations:
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return Translations(handle, domain=DOMAIN)
    if po.is_file():  # not compiled yet (or stale): compile in memory
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parent.parent.name)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return Translations(buffer, domain=DOMAIN)
    return NullTranslations()


@contextmanager
def active(language: str, locales_dir: Path = LOCALES):
    token = _current.set(translations(interface_language(language), locales_dir))
    try:
        yield
    finally:
        _current.reset(token)


def _(message: str) -> str:
    return _current.get().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _current.get().ngettext(singular, plural, n)


def L_(message: str) -> str:  # marks a string for extraction (keyword L_); translated where shown
    """Not N_: the bot's own catalog extracts N_ from every file under bot/."""
    return message
