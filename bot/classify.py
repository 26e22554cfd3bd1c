"""`safesafar classify`: messages in (one per line, UTF-8), one JSON object per line out, same order.

Lines are read as bytes and decoded one by one, so a line of invalid UTF-8 gets its bad bytes replaced
(and a warning on stderr) instead of stopping the stream. Up to `concurrency` messages are in flight at
once; results are written in input order as soon as they are ready.
"""
from __future__ import annotations

import asyncio
import json
from typing import BinaryIO, TextIO

from .understanding import Understander


def decode_line(raw: bytes, number: int, errors: TextIO) -> str:
    line = raw.rstrip(b"\r\n")
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        print(f"warning: line {number}: invalid UTF-8, bad bytes replaced by U+FFFD", file=errors)
        return line.decode("utf-8", errors="replace")


async def classify_stream(understander: Understander, source: BinaryIO, sink: TextIO, errors: TextIO,
                          concurrency: int = 8) -> int:
    """Returns the number of lines classified. Raises on a failure of the NLU service."""
    loop = asyncio.get_running_loop()
    semaphore = asyncio.Semaphore(concurrency)
    pending: asyncio.Queue = asyncio.Queue(maxsize=concurrency * 4)

    async def one(text: str) -> dict:
        async with semaphore:
            result = await understander.understand(text)
        return result.as_contract_dict()

    async def reader() -> None:
        number = 0
        while True:
            raw = await loop.run_in_executor(None, source.readline)
            if not raw:
                break
            number += 1
            await pending.put(asyncio.ensure_future(one(decode_line(raw, number, errors))))
        await pending.put(None)

    read_task = asyncio.ensure_future(reader())
    count = 0
    try:
        while True:
            task = await pending.get()
            if task is None:
                break
            sink.write(json.dumps(await task, ensure_ascii=False) + "\n")
            count += 1
            if pending.empty():
                sink.flush()
    except BaseException:
        read_task.cancel()
        while not pending.empty():
            task = pending.get_nowait()
            if task is not None:
                task.cancel()
        raise
    finally:
        sink.flush()
    await read_task
    return count
