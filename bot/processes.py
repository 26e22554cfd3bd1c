"""The processes `safesafar run` starts beside itself (the staff console, a local Rasa server): they end
with it, even when it is killed (SIGKILL, or the terminal closes), and one found already running is
checked before it is reused.

Linux's PR_SET_PDEATHSIG (prctl(2), through ctypes) sends the child a signal when its parent dies; it
is set between fork and exec, and survives the exec."""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import signal
from pathlib import Path

PR_SET_PDEATHSIG = 1

try:  # resolved before any fork: the child only calls it
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: children outlive a killed parent there
    _prctl = None


def die_with_parent(sig: int = signal.SIGTERM):
    """A `preexec_fn` for subprocess.Popen: the child gets `sig` when this process (more exactly, the
    thread that starts it) dies. None where prctl does not exist."""
    if _prctl is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        _prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os.kill(os.getpid(), sig)

    return preexec


def fingerprint(*parts: str) -> str:
    """A short hash of configuration (a database URL holds a password: it is never written as such)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def is_console(pid: int) -> bool:
    """Whether `pid` runs a staff console (`safesafar console`, `python -m bot.cli console`), from its
    command line: a pid that an unrelated process got after a console crashed is not taken for one."""
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"console" in arguments


class Claim:
    """A file that says which process serves a port, with a fingerprint of its configuration: written by
    the server when it starts, removed when it stops, read by a `safesafar run` that finds the port taken."""

    def __init__(self, path: Path):
        self.path = path

    def write(self, config: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"pid": os.getpid(), "config": config}))

    def read(self) -> dict | None:
        """{"pid", "config"} of a running console, else None."""
        try:
            claim = json.loads(self.path.read_text())
            pid = int(claim["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return claim if is_console(pid) else None

    def remove(self) -> None:
        try:
            claim = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        if claim.get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)


def console_claim(settings) -> Claim:
    return Claim(Path(settings.root) / "var" / f"console-{settings.console_port}.json")


def console_config(settings) -> str:
    """What a running console must share with a `safesafar run` that reuses it: the database."""
    return fingerprint(settings.database_url)
