"""Interface strings through gettext catalogs (locales/<catalog>/LC_MESSAGES/messages.po, compiled to .mo
by the setup) and dates and numbers through Babel.

Code marks a string with `tr(language, "English text", **values)` (pybabel extracts `tr:2`). Roman Urdu
has its own catalog (ur_Latn); Babel has no locale data for it, so dates and numbers use Urdu's.
"""
from __future__ import annotations

import functools
import threading
from datetime import date
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from .config import ROOT

LOCALES = ROOT / "locales"
DOMAIN = "messages"


class I18n:
    def __init__(self, locales_dir: Path = LOCALES, catalogs: dict[str, str] | None = None,
                 babel_locales: dict[str, str] | None = None, fallbacks: dict[str, str] | None = None):
        """catalogs: language code -> catalog folder (ur-Latn -> ur_Latn); babel_locales: code -> Babel
        locale; fallbacks: code -> the language whose catalog fills a string missing from this one."""
        self.dir = locales_dir
        self.catalogs = catalogs or {"en": "en", "ur": "ur", "ur-Latn": "ur_Latn"}
        self.babel_locales = babel_locales or {"en": "en", "ur": "ur_PK", "ur-Latn": "ur_PK"}
        self.fallbacks = fallbacks or {}
        self._cache: dict[str, NullTranslations] = {}
        self._lock = threading.RLock()

    def configure(self, catalogs: dict[str, str], babel_locales: dict[str, str],
                  fallbacks: dict[str, str] | None = None) -> None:
        fallbacks = fallbacks or {}
        with self._lock:
            if (catalogs, babel_locales, fallbacks) != (self.catalogs, self.babel_locales, self.fallbacks):
                self.catalogs, self.babel_locales = dict(catalogs), dict(babel_locales)
                self.fallbacks, self._cache = dict(fallbacks), {}

    def translations(self, language: str, _seen: frozenset = frozenset()) -> NullTranslations:
        with self._lock:
            if language not in self._cache:
                translations = self._load(self.catalogs.get(language, language))
                fallback = self.fallbacks.get(language)
                if fallback and fallback not in _seen and fallback != language:
                    translations.add_fallback(self.translations(fallback, _seen | {language}))
                self._cache[language] = translations
            return self._cache[language]

    def _load(self, catalog: str) -> NullTranslations:
        folder = self.dir / catalog / "LC_MESSAGES"
        mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
        if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as handle:
                return Translations(handle, domain=DOMAIN)
        if po.is_file():  # not compiled yet (or stale): compile in memory
            import io

            with po.open("rb") as handle:
                buffer = io.BytesIO()
                write_mo(buffer, read_po(handle))
            buffer.seek(0)
            return Translations(buffer, domain=DOMAIN)
        return NullTranslations()

    def tr(self, language: str, message: str, **values) -> str:
        text = self.translations(language).gettext(message)
        return text.format(**values) if values else text

    def locale(self, language: str) -> Locale:
        return _locale(self.babel_locales.get(language, language))

    def date(self, value: date, language: str, pattern: str = "medium") -> str:
        return _format_date(value, pattern, self.locale(language))

    def number(self, value, language: str) -> str:
        return format_decimal(value, locale=self.locale(language))


@functools.lru_cache(maxsize=64)
def _locale(tag: str) -> Locale:
    try:
        return Locale.parse(tag)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


@functools.lru_cache(maxsize=1024)
def _format_date(value: date, pattern: str, locale: Locale) -> str:
    """Babel re-reads its locale data on every call (~0.5 ms); answers show a handful of dates."""
    return format_date(value, format=pattern, locale=locale)


_default = I18n()


def default_i18n() -> I18n:
    return _default


def tr(language: str, message: str, **values) -> str:
    return _default.tr(language, message, **values)
