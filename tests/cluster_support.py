"""scripts/cluster.sh driven from Python: the cluster test (tests/test_cluster.py) and its benchmark
(bench/cluster.py) start the whole topology in a throwaway state folder on free ports, pointed at the
tests' Bot API server (tests/botapi_server.py), kill and restart workers, and read nginx's access log."""
from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from bot.config import ROOT

SCRIPT = ROOT / "scripts" / "cluster.sh"
TOKEN = "123456:TEST-TOKEN"


def running(pid: int) -> bool:
    """The process exists and is not a zombie (killed, not yet reaped by its parent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def free_port_range(span: int, attempts: int = 50) -> int:
    """A base port such that base .. base+span-1 are free on 127.0.0.1 (cluster.sh derives every
    port from its base). Below Linux's ephemeral range (32768-60999 by default), from which outgoing
    connections would take ports between this check and the servers' start."""
    low = 20000
    try:
        low_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low_ephemeral = 32768
    high = max(low + 1000, low_ephemeral) - span
    for _ in range(attempts):
        base = random.randrange(low, high)
        sockets = []
        try:
            for port in range(base, base + span):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free port range")


class Cluster:
    def __init__(self, bot_api_base_url: str, workers: int = 2, rasa: int = 2, staff_chat_id: str = "",
                 directory: Path | None = None, **env):
        # not under pytest's 0700 tree: the postgres user must reach its data folder
        self.dir = directory or Path(tempfile.mkdtemp(prefix="safesafar-cluster-"))
        self.dir.chmod(0o755)
        self.port = free_port_range(21 + max(workers, rasa, 2))
        self.env = dict(os.environ, CLUSTER_DIR=str(self.dir), CLUSTER_PORT=str(self.port),
                        CLUSTER_WORKERS=str(workers), CLUSTER_RASA=str(rasa), TELEGRAM_BOT_TOKEN=TOKEN,
                        TELEGRAM_API_BASE_URL=bot_api_base_url, STAFF_CHAT_ID=staff_chat_id,
                        TELEGRAM_MAX_RATE="1000", RASA_TELEMETRY_ENABLED="false")
        self.env.update({k: str(v) for k, v in env.items()})

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def certificate(self) -> Path:
        return self.dir / "tls" / "cert.pem"

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port + 1}/safesafar"

    def bot_port(self, index: int) -> int:
        return self.port + 20 + index

    def run(self, command: str, timeout: float = 600, **env) -> subprocess.CompletedProcess:
        return subprocess.run([str(SCRIPT), command], env=dict(self.env, **{k: str(v) for k, v in env.items()}),
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout)

    def up(self, **env) -> str:
        result = self.run("up", **env)
        if result.returncode != 0:
            raise RuntimeError(f"cluster.sh up failed ({result.returncode}):\n{result.stderr[-4000:]}\n"
                               f"{self.logs()}")
        return result.stdout

    def down(self) -> None:
        self.run("down", timeout=120)

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def pid(self, name: str) -> int:
        return int((self.dir / "run" / f"{name}.pid").read_text())

    def kill(self, name: str) -> int:
        """SIGKILL, no chance to finish anything; returns the pid that was killed once it is dead."""
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while running(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        return pid

    def log(self, name: str) -> str:
        path = self.dir / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self, tail: int = 1500) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-tail:]}"
                         for p in sorted((self.dir / "logs").glob("*.log")))

    def webhook_upstreams(self) -> list[tuple[int, str]]:
        """(status, upstream addresses) of every webhook POST in nginx's access log; a POST that a
        worker failed and the next one took shows both addresses."""
        path = self.dir / "nginx" / "logs" / "access.log"
        text = path.read_text() if path.exists() else ""
        return [(int(m.group(1)), m.group(2)) for m in
                re.finditer(r'"POST /telegram HTTP/1\.1" (\d+) upstream=(\S+(?:, \S+)*)', text)]
