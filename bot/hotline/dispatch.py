"""Delivering the outbox: at once after a turn commits (the rows come already claimed), and by a
background loop for everything else (retries with backoff, staff replies from the console, rows left by
a process that died). Each row is delivered by one worker at a time (see storage.outbox.Outbox)."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import Awaitable, Callable

from ..futures import settle
from ..storage.executor import run_db
from ..storage.outbox import Outbox, OutboxItem

log = logging.getLogger("safesafar.outbox")


class PermanentFailure(Exception):
    """The message can never be delivered (the user blocked the bot, the chat is gone): not retried."""


def crash_point(name: str) -> None:
    """SAFESAFAR_CRASH_AT=<name> kills this process with SIGKILL here: the crash tests use it to stop the
    bot between receiving a message, committing the case, answering the user and alerting the staff."""
    if os.environ.get("SAFESAFAR_CRASH_AT") == name:
        log.warning("crash point %s: SIGKILL", name)
        os.kill(os.getpid(), signal.SIGKILL)


Deliver = Callable[[OutboxItem], Awaitable[None]]


class Dispatcher:
    def __init__(self, outbox: Outbox, deliver: Deliver, interval: float = 0.5, batch: int = 20,
                 order_wait: float = 10.0):
        """order_wait: how long a turn's replies wait for an earlier reply to the same chat that another
        worker is delivering (the user's previous turn, handled there)."""
        self.outbox, self.deliver = outbox, deliver
        self.order_wait = order_wait
        self.interval, self.batch = interval, batch
        self.wake = asyncio.Event()
        self._marks: list[tuple[int, asyncio.Future]] = []  # sent rows waiting for their mark
        self._marking: asyncio.Task | None = None

    async def deliver_now(self, items: list[OutboxItem]) -> None:
        """Rows this worker claimed when it wrote them: sent in order. The user's replies come before
        the staff alert; a failure leaves the rest to the background loop (after its backoff)."""
        failed = False
        replies = [item for item in items if item.kind == "reply"]
        if replies:
            await self._after_earlier_replies(replies[0])
        for index, item in enumerate(items):
            if failed:
                await run_db(self.outbox.engine, self.outbox.failed, item.id, "an earlier message of the turn failed")
                continue
            ok = await self._one(item)
            failed = not ok
            if item.kind == "reply" and (index + 1 == len(items) or items[index + 1].kind != "reply"):
                crash_point("answered")
            elif item.kind == "staff_alert":
                crash_point("alerted")
        if failed:
            self.wake.set()

    async def _after_earlier_replies(self, item: OutboxItem) -> None:
        """Waits while another worker delivers an earlier reply to the same chat (at most order_wait)."""
        loop = asyncio.get_running_loop()
        deadline, delay = loop.time() + self.order_wait, 0.005
        while await run_db(self.outbox.engine, self.outbox.earlier_in_delivery, item.chat_id, item.id,
                           self.order_wait):
            if loop.time() >= deadline:
                log.warning("outbox %s: an earlier reply to the chat is still being sent; sending anyway", item.id)
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    async def _one(self, item: OutboxItem) -> bool:
        try:
            await self.deliver(item)
        except PermanentFailure as exc:
            log.warning("outbox %s (%s) undeliverable: %s", item.id, item.kind, exc)
            await run_db(self.outbox.engine, self.outbox.failed, item.id, str(exc) or type(exc).__name__, True)
            return True
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # network, 5xx, timeouts: tried again later
            log.warning("outbox %s (%s) failed, will retry: %s", item.id, item.kind, type(exc).__name__)
            await run_db(self.outbox.engine, self.outbox.failed, item.id, f"{type(exc).__name__}: {exc}")
            return False
        await self._mark_sent(item.id)
        return True

    async def _mark_sent(self, row_id: int) -> None:
        """Marks a row sent; returns when that is committed. Rows sent while a mark is being written are
        marked together in the next transaction (one instead of one per message under load)."""
        future = asyncio.get_running_loop().create_future()
        self._marks.append((row_id, future))
        if self._marking is None or self._marking.done():
            self._marking = asyncio.get_running_loop().create_task(self._write_marks())
        await future

    async def _write_marks(self) -> None:
        while self._marks:
            batch, self._marks = self._marks, []
            try:
                await run_db(self.outbox.engine, self.outbox.sent, *[row_id for row_id, _ in batch])
            except BaseException as exc:  # noqa: BLE001 - each waiting delivery gets the error
                settle((future for _, future in batch), error=exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            settle(future for _, future in batch)

    async def run_once(self) -> int:
        items = await run_db(self.outbox.engine, self.outbox.claim, None, self.batch)
        for item in items:
            await self._one(item)
        return len(items)

    async def run(self) -> None:
        """The background loop: until cancelled."""
        released = await run_db(self.outbox.engine, self.outbox.release_dead_workers)
        if released:
            log.info("took over %d outbox rows of a process that is gone", released)
        while True:
            try:
                count = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database away for a moment: keep going
                log.error("outbox loop: %s", type(exc).__name__)
                count = 0
            if count == 0:
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), self.interval)
                except asyncio.TimeoutError:
                    pass
