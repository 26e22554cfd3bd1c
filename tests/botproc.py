"""The bot as its own process (`safesafar run`), pointed at a Bot API server on 127.0.0.1, an NLU server
and a database: what the crash tests kill and restart, and what the benchmarks measure."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from bot.config import ROOT


class BotProcess:
    def __init__(self, base_url: str, nlu_url: str, database_url: str, staff_chat_id: str = "",
                 log_path: Path | None = None, **env):
        self.env = dict(os.environ, TELEGRAM_BOT_TOKEN="123456:TEST-TOKEN", TELEGRAM_API_BASE_URL=base_url,
                        NLU_URL=nlu_url, NLU_AUTOSTART="false", DATABASE_URL=database_url,
                        STAFF_CHAT_ID=staff_chat_id, CONSOLE_URL="http://console.test", TELEGRAM_MAX_RATE="1000",
                        RASA_TELEMETRY_ENABLED="false", PYTHONUNBUFFERED="1", CONSOLE_AUTOSTART="false")
        self.env.pop("SAFESAFAR_CRASH_AT", None)
        self.env.update({k: str(v) for k, v in env.items()})
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, **env) -> "BotProcess":
        run_env = dict(self.env, **{k: str(v) for k, v in env.items()})
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "safesafar"), "run"], env=run_env, cwd=ROOT,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self, timeout: float = 20) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""


def wait_until(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
