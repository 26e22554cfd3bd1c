"""The local chat in the terminal: the embedded default of `make run` without a Telegram token.

The same dialogue core and storage as every channel. Buttons are shown as numbered choices: type the
number to press one. Commands: /language, /check, /help, /menu, /quit. Piped input works too: one message
per line, the replies printed in order.
"""
from __future__ import annotations

import asyncio
import getpass
import sys
from typing import TextIO

from .config import Settings
from .dialogue.engine import Button, Reply
from .hotline.service import ConversationService
from .storage.hotline_store import Inbound
from .text import isolate_ltr, valid_utf8

RLM = "\u200f"


def render(replies: list[Reply]) -> tuple[str, list[Button]]:
    """Text for the terminal and the buttons in the order they are numbered."""
    lines: list[str] = []
    buttons: list[Button] = []
    for reply in replies:
        text = isolate_ltr(reply.text)  # numbers, commands and Latin words in Urdu text keep their order
        if reply.rtl:  # right-to-left lines start with a right-to-left mark so that terminals align them
            text = "\n".join(RLM + line if line else line for line in text.split("\n"))
        lines.append(text)
        for row in reply.buttons:
            cells = []
            for button in row:
                buttons.append(button)
                cells.append(f"[{len(buttons)}] {isolate_ltr(button.label)}")
            lines.append("   ".join(cells))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n", buttons


async def chat(service: ConversationService, user: str, stdin: TextIO, stdout: TextIO, interactive: bool) -> None:
    """The terminal user is `console:<login>`: what they send reaches the hotline queue like any user's."""
    loop = asyncio.get_running_loop()
    buttons: list[Button] = []

    async def send(kind: str, text: str) -> list[Reply]:
        handled = await service.handle(Inbound("console", user, None, kind, text))
        return handled.replies

    if interactive:
        print(service.i18n.tr("en", "SafeSafar. Type in English, اردو or Roman Urdu. Numbers press buttons; "
                                    "/language, /check, /report, /help, /quit."), file=stdout)
        text, buttons = render(await send("command", "/start"))
        print(text, file=stdout)
    while True:
        if interactive:
            print("you> ", end="", file=stdout, flush=True)
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            break
        message = valid_utf8(line).strip()  # invalid UTF-8 piped in arrives as lone surrogates
        if not message:
            continue
        if message in ("/quit", "/exit"):
            break
        if message.isdigit() and 1 <= int(message) <= len(buttons):
            replies = await send("button", buttons[int(message) - 1].payload)
        else:
            replies = await send("command" if message.startswith("/") else "text", message)
        text, buttons = render(replies)
        print(text, file=stdout, flush=True)


def run_console(settings: Settings, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    from .nlu.server import NLUUnavailable, nlu_server
    from .nlu.train import ModelMissing
    from .services import build_service

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    for stream in (stdin, stdout):  # undecodable input and unencodable output are replaced, never raised
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="surrogateescape" if stream is stdin else "replace")
    try:
        with nlu_server(settings, log=sys.stderr) as url:
            # the terminal chat answers from content/ (edits show within a second) unless CONTENT_SOURCE says otherwise
            source = "files" if settings.content_source == "auto" else settings.content_source
            service, close = build_service(settings, url, durable_replies=False, content_source=source)

            async def main() -> None:
                try:
                    await chat(service, getpass.getuser(), stdin, stdout, stdin.isatty())
                finally:
                    await close()

            asyncio.run(main())
    except (NLUUnavailable, ModelMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("", file=stdout)
    return 0
