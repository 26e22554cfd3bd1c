"""Starting and stopping a local Rasa server when none answers at the configured URL.

`rasa run --enable-api` in the NLU environment, serving the current model, on the port of NLU_URL.
The process gets its own process group, so stopping it also stops anything it spawned.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import httpx

from ..config import Settings
from ..processes import die_with_parent
from .train import current_model

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class NLUUnavailable(RuntimeError):
    pass


def server_status(url: str, timeout: float = 1.0) -> dict | None:
    """Rasa's /status (with the loaded model) or None when nothing answers."""
    try:
        response = httpx.get(f"{url}/status", timeout=timeout)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


class RasaProcess:
    def __init__(self, settings: Settings, model: Path, url: str, log_path: Path | None = None):
        self.settings, self.model, self.url = settings, model, url
        self.log_path = log_path or settings.models_dir / "rasa-server.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        parsed = urlparse(self.url)
        rasa = self.settings.nlu_venv / "bin" / "rasa"
        if not rasa.exists():
            raise NLUUnavailable(f"{rasa} not found: run `make setup` first")
        # Several Sanic workers (SANIC_WORKERS, default 2: one per core) need a lock store Rasa trusts
        # with them: nlu/endpoints.yml names one (nlu/nlu_lockstore.py), importable via PYTHONPATH.
        project = str(self.settings.nlu_project)
        env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2",
                   SQLALCHEMY_SILENCE_UBER_WARNING="1", PYTHONWARNINGS="ignore",
                   SANIC_WORKERS=str(self.settings.nlu_workers),
                   PYTHONPATH=os.pathsep.join(p for p in (project, os.environ.get("PYTHONPATH", "")) if p))
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [str(rasa), "run", "--enable-api", "-m", str(self.model), "-i", parsed.hostname or "127.0.0.1",
             "-p", str(parsed.port or 5005), "--endpoints", str(self.settings.nlu_project / "endpoints.yml"),
             "--credentials", str(self.settings.nlu_project / "credentials.yml"),
             "--log-file", str(self.log_path.with_suffix(".rasa.log"))],
            cwd=str(self.settings.models_dir), env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent())
        log.close()

    def wait_ready(self, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise NLUUnavailable(f"the Rasa server exited with code {self.proc.returncode}; see {self.log_path}")
            status = server_status(self.url)
            if status and status.get("model_file"):
                return
            time.sleep(0.5)
        self.stop()
        raise NLUUnavailable(f"the Rasa server did not get ready within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


def reuse_note(settings: Settings, url: str, status: dict) -> str:
    """What `safesafar` says when it uses an NLU server it did not start: which model that serves, and
    whether it is the current one."""
    serving = Path(str(status.get("model_file") or "")).name or "no model"
    try:
        wanted = current_model(settings).name
    except Exception:  # noqa: BLE001 - no trained model here: nothing to compare with
        return f"Reusing the NLU server already running at {url} (model {serving})"
    if serving == wanted:
        return f"Reusing the NLU server already running at {url} (the current model, {serving})"
    return (f"warning: reusing the NLU server already running at {url}, which serves {serving}, not the "
            f"current model {wanted}: stop it to use the current one")


@contextlib.contextmanager
def nlu_server(settings: Settings, url: str | None = None, log=None) -> Iterator[str]:
    """Yields the URL of a ready Rasa server: the configured one if it answers, else (for a local URL,
    with autostart on) one started here and stopped on exit."""
    url = (url or settings.nlu_url).rstrip("/")
    status = server_status(url)
    if status is not None:
        if log is not None:
            print(reuse_note(settings, url, status), file=log, flush=True)
        yield url
        return
    host = urlparse(url).hostname
    if not settings.nlu_autostart or host not in LOCAL_HOSTS:
        raise NLUUnavailable(f"no NLU server answers at {url} (start one, or set NLU_URL)")
    process = RasaProcess(settings, current_model(settings), url)
    if log is not None:
        print(f"Starting the NLU server at {url} (about 20 s) ...", file=log, flush=True)
    process.start()
    try:
        process.wait_ready()
        yield url
    finally:
        process.stop()
