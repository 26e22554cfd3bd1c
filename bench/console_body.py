"""How much large request bodies slow the staff console down for everyone else (issue 17): the console under
uvicorn on 127.0.0.1, a static file fetched every 50 ms, first alone, then while clients without a session
POST large bodies to the login form (20 MB each by default, of 4-byte fields). Prints the static file's latency (median and
maximum) in both phases and what the large POSTs got.

    PYTHONPATH=$PWD .venv/bin/python bench/console_body.py [--mb 20] [--posts 3]
"""
from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sample(url: str, stop: threading.Event, out: list[float]) -> None:
    with httpx.Client() as client:
        while not stop.is_set():
            started = time.perf_counter()
            client.get(url).raise_for_status()
            out.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=20.0, help="size of each large body (MB)")
    parser.add_argument("--posts", type=int, default=3, help="large POSTs, one after another per client")
    parser.add_argument("--clients", type=int, default=2, help="clients sending large POSTs at once")
    args = parser.parse_args()

    from bot.storage.migrate import upgrade
    from bot.web.app import create_app

    db = Path(tempfile.mkdtemp(prefix="console-body-")) / "bench.db"
    upgrade(f"sqlite:///{db}")
    app = create_app(f"sqlite:///{db}", secret="bench", fast_hashing=True)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    static = base + "/static/console.css"
    try:
        idle: list[float] = []
        stop = threading.Event()
        sampler = threading.Thread(target=sample, args=(static, stop, idle))
        sampler.start()
        time.sleep(2)
        stop.set()
        sampler.join()

        busy: list[float] = []
        stop = threading.Event()
        sampler = threading.Thread(target=sample, args=(static, stop, busy))
        body = b"x=y&" * int(args.mb * 1_000_000 / 4)  # many small fields: the slowest form to parse
        answers: list[str] = []

        def poster() -> None:
            with httpx.Client(timeout=120) as client:
                for _ in range(args.posts):
                    started = time.perf_counter()
                    try:
                        response = client.post(base + "/login", content=body,
                                               headers={"content-type": "application/x-www-form-urlencoded"})
                        answer = str(response.status_code)
                    except httpx.HTTPError as exc:  # the server may close the connection while we send
                        answer = type(exc).__name__
                    answers.append(f"{answer} in {(time.perf_counter() - started) * 1000:.0f} ms")

        sampler.start()
        posters = [threading.Thread(target=poster) for _ in range(args.clients)]
        for p in posters:
            p.start()
        for p in posters:
            p.join()
        stop.set()
        sampler.join()
        for name, values in (("alone", idle), (f"during {args.clients}x{args.posts} POSTs of {args.mb:g} MB", busy)):
            print(f"static file {name}: median {statistics.median(values):.1f} ms, max {max(values):.1f} ms "
                  f"({len(values)} requests)")
        print("large POSTs:", ", ".join(answers))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.console.engine.dispose()


if __name__ == "__main__":
    main()
