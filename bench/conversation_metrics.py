"""How the conversation behaves (issue 23): replays the five personas of bench/personas.py through the
conversation service (the real NLU, a fresh SQLite database) and prints, per persona and overall:

  messages per turn            replies the bot sent / turns the user took
  median first-message words   words of the first reply of each turn (median over all turns)
  repeated pages               replies of 40+ words identical to an earlier reply in the same conversation
  danger -> acknowledgement    turns from the first message saying someone is in danger to the first turn
                               that tells the user an urgent case is open (0: the same turn)
  crisis misfires              turns after an urgent case opened whose replies offer the offer check, say
                               "out of scope" or "not sure I understood"

    .venv/bin/python bench/conversation_metrics.py [--nlu-url http://127.0.0.1:5005] [--transcript]

The script uses only the service's public entry point, so the same file runs on an older checkout (copy
it there) to measure "before".
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bot.config import ROOT, Settings  # noqa: E402
from bot.dialogue.content import ContentStore  # noqa: E402
from bot.dialogue.engine import Dialogue  # noqa: E402
from bot.hotline.service import ConversationService  # noqa: E402
from bot.i18n import I18n  # noqa: E402
from bot.nlu.server import nlu_server  # noqa: E402
from bot.services import build_understander  # noqa: E402
from bot.storage.db import make_engine  # noqa: E402
from bot.storage.hotline_store import HotlineStore, Inbound  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from personas import PERSONAS  # noqa: E402

LONG = 40


def words(text: str) -> int:
    return len(text.split())


def misfire(replies, content) -> bool:
    out_of_scope = [content.answer("out_of_scope", lang) for lang in content.languages] if "out_of_scope" in content.topics else []
    for reply in replies:
        if any(b.payload.startswith(("act:offer_check", "oc:")) for row in reply.buttons for b in row):
            return True
        if "not sure I understood" in reply.text or any(t and t in reply.text for t in out_of_scope):
            return True
    return False


async def replay(service: ConversationService, persona: dict, uid: int, transcript: bool) -> dict:
    turns = sent = 0
    first_words: list[int] = []
    seen: list[str] = []
    repeated = 0
    danger_turn = persona.get("danger")
    ack_turn = None
    misfires = 0
    urgent_open = False
    content = service.dialogue.content_store.get()
    last = []
    for index, step in enumerate(persona["steps"]):
        if isinstance(step, tuple):
            payload = next((b.payload for r in reversed(last) for row in r.buttons for b in row
                            if b.payload.startswith(step[1])), None)
            if payload is None:
                continue
            inbound = Inbound("bench", str(uid), None, "button", payload)
        else:
            inbound = Inbound("bench", str(uid), None, "command" if step.startswith("/") else "text", step)
        handled = await service.handle(inbound, preferred_language=persona.get("tg_language"))
        turns += 1
        replies = [r for r in handled.replies if r.text.strip()]
        sent += len(replies)
        if replies:
            first_words.append(words(replies[0].text))
        for reply in replies:
            if words(reply.text) >= LONG and reply.text in seen:
                repeated += 1
            seen.append(reply.text)
        case = handled.case
        if urgent_open and misfire(replies, content):
            misfires += 1
        if case is not None and case.priority == "urgent":
            urgent_open = True
        if (danger_turn is not None and ack_turn is None and index >= danger_turn and case is not None
                and case.priority == "urgent"):
            ack_turn = index
        if transcript:
            print(f"  > {step}")
            for reply in replies:
                labels = " | ".join(b.label for row in reply.buttons for b in row)
                print("    < " + reply.text.replace("\n", "\n      ") + (f"\n      [{labels}]" if labels else ""))
        last = replies or last
    return {"turns": turns, "sent": sent, "first_words": first_words, "repeated": repeated,
            "danger_to_ack": (ack_turn - danger_turn) if (danger_turn is not None and ack_turn is not None) else None,
            "danger": danger_turn is not None, "misfires": misfires}


async def main_async(url: str, transcript: bool) -> None:
    settings = Settings.from_env()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/bench.db"
        upgrade(db)
        engine = make_engine(db)
        understander, client = build_understander(settings, url)
        i18n = I18n()
        try:  # the dialogue of an older checkout took a state repository
            from bot.storage.state_repo import SqlStateRepository
            dialogue = Dialogue(understander, ContentStore(ROOT / "content"), SqlStateRepository(engine), i18n)
        except ImportError:
            dialogue = Dialogue(understander, ContentStore(ROOT / "content"), i18n)
        service = ConversationService(dialogue, HotlineStore(engine), i18n, durable_replies=False)
        results = []
        for uid, persona in enumerate(PERSONAS, start=1):
            if transcript:
                print(f"== {persona['name']}")
            results.append((persona["name"], await replay(service, persona, uid, transcript)))
        await client.aclose()
        engine.dispose()
    print(f"{'persona':10} {'turns':>5} {'msgs/turn':>9} {'median 1st words':>16} {'repeated':>8} {'danger->ack':>11} "
          f"{'crisis misfires':>15}")
    for name, r in results:
        ack = "-" if not r["danger"] else ("never" if r["danger_to_ack"] is None else str(r["danger_to_ack"]))
        print(f"{name:10} {r['turns']:5d} {r['sent'] / r['turns']:9.2f} {statistics.median(r['first_words']):16.0f} "
              f"{r['repeated']:8d} {ack:>11} {r['misfires']:15d}")
    turns = sum(r["turns"] for _, r in results)
    sent = sum(r["sent"] for _, r in results)
    firsts = [w for _, r in results for w in r["first_words"]]
    print(f"{'all':10} {turns:5d} {sent / turns:9.2f} {statistics.median(firsts):16.0f} "
          f"{sum(r['repeated'] for _, r in results) / len(results):8.1f} (repeated: mean per conversation)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nlu-url", default=None, help="a running Rasa server (default: start one)")
    parser.add_argument("--transcript", action="store_true", help="print the conversations")
    args = parser.parse_args()
    settings = Settings.from_env()
    with nlu_server(settings, args.nlu_url or settings.nlu_url) as url:
        asyncio.run(main_async(url, args.transcript))


if __name__ == "__main__":
    main()
