"""The content a bot worker serves from the database: the published revisions, rebuilt when the content
version moves. `get()` is ContentStore's interface (bot/dialogue/content.py) and never touches the
database: a thread of its own polls the version (one single-row query every `interval` seconds) and builds
the new snapshot beside the old one, then swaps it in. A snapshot that does not build keeps the last good
content (last_error says why; that version is not tried again until the next publish)."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Protocol

from ..dialogue.content import Content
from .layout import assemble
from .workbench import piece

log = logging.getLogger("safesafar.content")


class Source(Protocol):
    def version(self) -> int: ...
    def published(self) -> tuple[int, list]: ...  # (version, [(Item, Revision)])


class LiveContent:
    def __init__(self, source: Source, interval: float = 1.0, on_change: list[Callable[[Content], None]] | None = None,
                 start: bool = True):
        self.source = source
        self.interval = interval
        self.on_change = list(on_change or [])
        self.last_error: str | None = None
        self.version = -1
        self.tried = -1  # the newest version tried (built or failed)
        self.reloads = 0
        self.content: Content | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if not self.refresh() or self.content is None:
            raise RuntimeError(f"the published content does not build: {self.last_error}")
        if start:
            self.start()

    def get(self) -> Content:
        return self.content  # type: ignore[return-value]

    def refresh(self) -> bool:
        """Rebuild when the published version moved. True when the content now served is current."""
        version = self.source.version()
        if version == self.version or version == self.tried:
            return version == self.version
        version, published = self.source.published()
        self.tried = version
        try:
            content = Content.from_documents(assemble(piece(i, r.document) for i, r in published))
        except Exception as exc:  # noqa: BLE001 - keep serving the last good content
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.error("content version %s does not build, still serving version %s: %s", version, self.version,
                      self.last_error)
            return False
        self.content, self.version, self.last_error = content, version, None
        self.reloads += 1
        for callback in self.on_change:
            try:
                callback(content)
            except Exception:  # noqa: BLE001
                log.exception("content change callback failed")
        return True

    def start(self) -> "LiveContent":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="content-poll", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.refresh()
            except Exception as exc:  # noqa: BLE001 - the database away for a moment: try again later
                self.last_error = f"{type(exc).__name__}: {exc}"
                time.sleep(self.interval)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
