"""Extracts the console's strings (bot/web code and templates) into locales/console.pot and merges them
into locales/<lang>/LC_MESSAGES/console.po for every interface language (new strings untranslated, for a
translator to fill in). The bot's own catalogs (domain "messages") are scripts/update_catalogs.py.

    .venv/bin/python -m bot.web.catalog
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ..config import ROOT
from .i18n import DOMAIN, LANGUAGES

PYBABEL = str(Path(sys.executable).parent / "pybabel")
POT = f"locales/{DOMAIN}.pot"


def main() -> int:
    subprocess.run([PYBABEL, "-q", "extract", "-F", "bot/web/babel.cfg", "-k", "_", "-k", "L_", "-k", "ngettext:1,2",
                    "--no-default-keywords", "--no-location", "--sort-output", "-o", POT, "--project", "SafeSafar console",
                    "bot/web"], cwd=ROOT, check=True)
    for language in LANGUAGES:
        po = ROOT / "locales" / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.is_file():
            command = ["update", "-i", POT, "-d", "locales", "-D", DOMAIN, "-l", language, "--no-fuzzy-matching",
                       "--ignore-obsolete"]
        else:
            command = ["init", "-i", POT, "-d", "locales", "-D", DOMAIN, "-l", language]
        subprocess.run([PYBABEL, "-q", *command], cwd=ROOT, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
