"""How the console shows the difference between two versions of a workbench item: the editorial domain's Diff
(bot/editorial/diff.py: every changed value, per language) as side-by-side tables, one per changed value,
made by difflib's HtmlDiff (which escapes the texts). Pure."""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from markupsafe import Markup

RTL = frozenset({"ur"})


@dataclass
class Change:
    path: str  # "answer.ur", "sources[0].url"
    language: str | None  # the language of a text of one language, else None
    table: Markup

    @property
    def rtl(self) -> bool:
        return self.language in RTL


def table(old: str | None, new: str | None, before: str = "", after: str = "") -> Markup:
    differ = difflib.HtmlDiff(tabsize=4, wrapcolumn=None)
    html = differ.make_table((old or "").splitlines(), (new or "").splitlines(), before, after, context=True,
                             numlines=3)
    return Markup(html.replace(' nowrap="nowrap"', ""))


def tables(diff, before: str = "", after: str = "") -> list[Change]:
    """One table per changed value of an editorial Diff (its `changes`: path, language, old, new)."""
    return [Change(c.path, c.language, table(c.old, c.new, before, after)) for c in diff.changes]
