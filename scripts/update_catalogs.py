"""Extract interface strings from the code and merge them into every catalog under locales/.

    .venv/bin/python scripts/update_catalogs.py

Runs `pybabel extract` (keywords tr:2, _t:2 and N_) into locales/messages.pot, then `pybabel update` for
each existing catalog (new strings appear untranslated, for a translator to fill in the .po file).
A new language: `pybabel init -i locales/messages.pot -d locales -l <catalog>`.
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYBABEL = str(Path(sys.executable).parent / "pybabel")

subprocess.run([PYBABEL, "extract", "-F", "babel.cfg", "-k", "tr:2", "-k", "_t:2", "-k", "t:2", "-k", "N_", "--no-default-keywords",
                "--no-location", "--sort-output", "-o", "locales/messages.pot", "--project", "SafeSafar", "."],
               cwd=ROOT, check=True)
for catalog in sorted(p.parent.parent.name for p in (ROOT / "locales").glob("*/LC_MESSAGES/messages.po")):
    subprocess.run([PYBABEL, "update", "-i", "locales/messages.pot", "-d", "locales", "-l", catalog,
                    "--no-fuzzy-matching", "--ignore-obsolete"], cwd=ROOT, check=True)
