"""The local chat in the terminal (the embedded default of `make run` without a Telegram token).

For now it shows what the assistant understood of each message: language, topic, entities and
whether it would go to the hotline. The full dialogue (answers from content/, the offer check) is built
on the same understanding service. Works with piped input too: one message per line, one reply each.
"""
from __future__ import annotations

import asyncio
import sys

from .config import Settings
from .contract import contract

PROMPT = "you> "
ESCALATION_NOTE = {
    "urgent": "URGENT: this goes to the hotline at once",
    "high": "this goes to the hotline after a short report form",
    "normal": "a hotline counsellor will answer",
}


def describe(result) -> str:
    if result.error:
        return f"(nothing to understand: {result.error})"
    meaning = contract().meaning.get(result.intent or "", "")
    parts = [f"[{result.language}] topic: {result.intent} ({result.confidence:.2f})"]
    if result.fallback:
        parts.append("not sure: the assistant would ask back")
    if meaning:
        parts.append(f"= {meaning}")
    for ent in result.entities:
        parts.append(f"{ent['entity']}: {ent['value']}")
    if result.priority:
        parts.append(ESCALATION_NOTE[result.priority])
    return "\n     ".join(parts)


def run_console(settings: Settings, stdin=None, stdout=None) -> int:
    from .nlu.server import NLUUnavailable, nlu_server
    from .nlu.train import ModelMissing
    from .services import build_understander

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    try:
        with nlu_server(settings, log=sys.stderr) as url:
            understander, client = build_understander(settings, url)
            if interactive:
                print("SafeSafar local chat. Type a message in English, اردو or Roman Urdu; /quit to leave.", file=stdout)

            async def loop() -> None:
                try:
                    while True:
                        if interactive:
                            print(PROMPT, end="", file=stdout, flush=True)
                        line = await asyncio.get_running_loop().run_in_executor(None, stdin.readline)
                        if not line:
                            break
                        text = line.rstrip("\r\n")
                        if text.strip() in ("/quit", "/exit"):
                            break
                        if not text.strip():
                            continue
                        result = await understander.understand(text)
                        print("bot> " + describe(result), file=stdout, flush=True)
                finally:
                    await client.aclose()

            asyncio.run(loop())
    except (NLUUnavailable, ModelMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("", file=stdout)
    return 0
