"""No process left behind: what `safesafar run` starts (the staff console, a local Rasa server) ends
with it, even when it is killed with SIGKILL; a console found already running is reused only when it
serves the same database, and the run says so."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.config import ROOT, Settings
from bot.processes import console_claim, console_config, is_console
from tests.conftest import free_port


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (from /proc/<pid>/task/*/children)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            for child in children:
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pids: set[int], timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(running(p) for p in pids):
        time.sleep(0.1)
    return {p for p in pids if running(p)}


def test_a_child_started_with_die_with_parent_ends_when_its_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys, time\n"
        "from bot.processes import die_with_parent\n"
        "child = subprocess.Popen(['sleep', '120'], start_new_session=True, preexec_fn=die_with_parent())\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n")], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        child = int(parent.stdout.readline())
        assert running(child)
        parent.kill()
        parent.wait(10)
        assert wait_gone({child}, 5) == set()
    finally:
        parent.kill()


def _listen() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_a_console_already_running_is_reused_only_when_it_serves_the_same_database(tmp_path, capsys):
    from bot.cli import _start_staff_console

    with _listen() as taken:
        port = taken.getsockname()[1]
        settings = Settings(root=tmp_path, console_port=port, database_url=f"sqlite:///{tmp_path}/a.db")
        assert _start_staff_console(settings) is None  # a stranger on the port: said, nothing started
        assert "not a staff console" in capsys.readouterr().err
        claim = console_claim(settings)
        console = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "console"])
        deadline = time.monotonic() + 10
        while not is_console(console.pid) and time.monotonic() < deadline:  # until its exec shows
            time.sleep(0.01)
        try:  # a console of this run's database (its claim as `safesafar console` writes it)
            claim.path.parent.mkdir(parents=True, exist_ok=True)
            claim.path.write_text(json.dumps({"pid": console.pid, "config": console_config(settings)}))
            assert _start_staff_console(settings) is None
            said = capsys.readouterr().err
            assert "reusing the one already running" in said and "same database" in said
            other = Settings(root=tmp_path, console_port=port, database_url=f"sqlite:///{tmp_path}/b.db")
            assert _start_staff_console(other) is None
            said = capsys.readouterr().err
            assert "serves another database" in said and f"kill {console.pid}" in said
            assert "b.db" not in said and "a.db" not in said  # the URL itself (a password) is not shown
        finally:
            console.kill()
            console.wait(10)
        assert claim.read() is None  # its process is gone: the claim counts no more
        assert _start_staff_console(settings) is None
        assert "not a staff console" in capsys.readouterr().err


@pytest.mark.rasa
def test_safesafar_run_killed_takes_its_console_and_rasa_with_it(tmp_path, settings):
    from bot.nlu.train import model_path

    if not model_path(settings).is_file():
        pytest.fail("no trained NLU model for the current nlu/: run `make setup` (make test does)")
    nlu_port, console_port = free_port(), free_port()
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path}/run.db", NLU_URL=f"http://127.0.0.1:{nlu_port}",
               NLU_AUTOSTART="true", CONSOLE_AUTOSTART="true", CONSOLE_PORT=str(console_port),
               CONSOLE_URL=f"http://127.0.0.1:{console_port}", RASA_TELEMETRY_ENABLED="false")
    env.pop("TELEGRAM_BOT_TOKEN", None)
    run = subprocess.Popen([str(ROOT / ".venv" / "bin" / "safesafar"), "run", "--console"], env=env, cwd=ROOT,
                           stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                           stderr=open(tmp_path / "run.log", "wb"))

    def up() -> bool:
        try:
            return (httpx.get(f"http://127.0.0.1:{nlu_port}/status", timeout=1).status_code == 200
                    and httpx.get(f"http://127.0.0.1:{console_port}/login", timeout=1).status_code == 200)
        except httpx.HTTPError:
            return False

    children: set[int] = set()
    try:
        deadline = time.monotonic() + 300
        while not up():
            assert run.poll() is None, (tmp_path / "run.log").read_text()
            assert time.monotonic() < deadline, "the NLU server and the console did not come up"
            time.sleep(0.5)
        children = descendants(run.pid)
        assert len(children) >= 2  # the console and the Rasa server (and whatever Rasa runs)
        run.send_signal(signal.SIGKILL)
        run.wait(10)
        assert wait_gone(children, 20) == set(), "left behind after SIGKILL"
    finally:
        run.kill()
        for pid in children | descendants(run.pid):
            if running(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_running_nlu_server_is_reused_saying_which_model_it_serves(settings):
    from bot.nlu.server import reuse_note
    from bot.nlu.train import current_model

    url = "http://127.0.0.1:5005"
    current = current_model(settings).name
    same = reuse_note(settings, url, {"model_file": f"/somewhere/{current}"})
    assert "Reusing the NLU server already running at" in same and "the current model" in same
    other = reuse_note(settings, url, {"model_file": "/somewhere/nlu-0000000000000000.tar.gz"})
    assert other.startswith("warning:") and "nlu-0000000000000000.tar.gz" in other and current in other
