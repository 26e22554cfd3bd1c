"""The content editors' workbench (issue 19): items of content with published versions and drafts,
review with four eyes on safety-critical items, history, revert, per-language diffs, validation with the
content check's rules, and the live content a worker serves. No framework imports: storage is given
(bot/storage/editorial.py implements the repository), the wiring is in bot/services.py."""
from .checks import Checker, locate
from .layout import KINDS, LayoutError, assemble, dump_entry, item_data, item_path, split_documents
from .model import (EDITORS, FOUR_EYES_KINDS, PUBLISHERS, SCORING_KEYS, STATUSES, Actor, Change, Conflict, Diff,
                    EditorialError, Forbidden, Invalid, Issue, Item, NotFound, Revision, Saved, TopicStatus, Usage,
                    WorkflowError)
from .workbench import Workbench

__all__ = ["Actor", "Change", "Checker", "Conflict", "Diff", "EDITORS", "EditorialError", "FOUR_EYES_KINDS",
           "Forbidden", "Invalid", "Issue", "Item", "KINDS", "LayoutError", "NotFound", "PUBLISHERS", "Revision",
           "SCORING_KEYS", "STATUSES", "Saved", "TopicStatus", "Usage", "Workbench", "WorkflowError", "assemble", "dump_entry",
           "item_data", "item_path", "locate", "split_documents"]
