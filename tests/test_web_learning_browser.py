"""The learning inbox's keyboard flow in a real browser (Debian's Chromium driven by Playwright): an editor
labels 100 groups with two keys each (1-4 / o / n / i, then Enter), every decision is stored as keyed.
Prints the throughput the page allows (labels per minute; a person's reading time comes on top)."""
from __future__ import annotations

import random
import re
import shutil
import time

from bot.config import ROOT
from bot.learning.inbox import candidate
from bot.storage import learning_store
from tests.test_web_browser import chromium_page, serve_console
from tests.web_support import PASSWORD, add_staff

WORDS = ("agent visa dubai qatar saudi lakh paise passport job offer company study admission university fee "
         "protector bureau contract salary kafeel iqama ticket medical interview gilgit hunza skardu karachi lahore "
         "boat iran turkey greece libya italy border license register complaint fia helpline refund receipt "
         "deposit guarantee sponsor employer driver nurse cook labour factory hotel farm").split()
INTENTS = ["agent_fees", "check_job_offer", "visa_rules", "verify_agent", "warning_signs", "safe_migration"]
KEYS = ["1", "2", "o", "i", "n"]


def seed(engine, now, count=100):
    rng = random.Random(20)
    seen = set()
    with engine.begin() as conn:
        while len(seen) < count:
            text = " ".join(rng.sample(WORDS, 7))
            row = candidate(text, "en", "fallback", intent=INTENTS[len(seen) % 6], confidence=0.3,
                            ranking=[(INTENTS[(len(seen) + k) % 6], 0.3 - k * 0.05) for k in range(4)])
            if row["norm"] in seen:
                continue
            seen.add(row["norm"])
            learning_store.add_item(conn, row, now)


def test_an_editor_labels_100_groups_with_the_keyboard(db_url, tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "nlu" / "data", data)
    monkeypatch.setenv("NLU_DATA_DIR", str(data))  # never the repository's nlu/data
    with serve_console(db_url) as console, chromium_page() as page:
        from bot.storage.db import utcnow

        add_staff(console.engine, "erum", "editor")
        seed(console.engine, utcnow())
        page.goto(console.url + "/login")
        page.fill("input[name=username]", "erum")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/$|.*/content$|.*/queue$"))
        page.goto(console.url + "/learning")
        groups = page.locator("li.lrn")
        assert groups.count() == 100  # nothing grouped: 100 different messages
        order = [(int(groups.nth(i).get_attribute("data-ids")), groups.nth(i).get_attribute("data-ranking").split())
                 for i in range(100)]
        page.locator("h1").click()  # the focus on the page, not in a field
        started = time.monotonic()
        for index in range(100):
            page.keyboard.press(KEYS[index % 5])
            page.keyboard.press("Enter")
        page.wait_for_function("document.querySelectorAll('li.lrn:not(.done)').length === 0")
        deadline = time.monotonic() + 60
        while True:
            with console.engine.connect() as conn:
                left = learning_store.items(conn, statuses=("new",))
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        assert left == []
        with console.engine.connect() as conn:
            rows = {r["id"]: r for r in learning_store.items_by_id(conn, [i for i, _ in order])}
        for index, (item_id, ranking) in enumerate(order):
            key, row = KEYS[index % 5], rows[item_id]
            expected = {"1": ("labelled", ranking[0]), "2": ("labelled", ranking[1]), "o": ("labelled", "out_of_scope"),
                        "i": ("ignored", None), "n": ("new_topic", None)}[key]
            assert (row["status"], row["label"] if row["status"] == "labelled" else None) == expected, (index, key)
        print(f"\nlearning inbox keyboard flow: 100 groups in {elapsed:.1f} s = {6000 / elapsed:.0f} labels/minute "
              f"(2 keys each; the page's limit, reading time not included)")
