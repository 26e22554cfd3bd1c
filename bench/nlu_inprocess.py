"""CPU per message of the NLU pipeline inside the Rasa environment, without HTTP: plain Rasa
(`Agent.parse_message`, one message at a time) against nlu/safesafar_batch.py's path at batch sizes 1-16.

    .venv/bin/python bench/nlu_inprocess.py        (runs itself in .venv-nlu; needs `make setup`)

Each configuration runs in its own process (safesafar_batch patches Rasa process-wide), over the same
held-out messages, after a warm-up.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import asyncio, json, sys, time
texts, model, project, mode, sizes = json.loads(sys.stdin.read())
if mode == "batch":
    sys.path.insert(0, project)
    import safesafar_batch
from rasa.core.agent import Agent
agent = Agent.load(model)
out = {}
if mode == "plain":
    for t in texts[:32]:
        asyncio.run(agent.parse_message(t))
    start = time.process_time()
    for t in texts:
        asyncio.run(agent.parse_message(t))
    out["1"] = (time.process_time() - start) * 1000 / len(texts)
else:
    for size in sizes:
        for t in texts[:32]:
            safesafar_batch.parse_batch(agent, [t])
        start = time.process_time()
        for i in range(0, len(texts), size):
            safesafar_batch.parse_batch(agent, texts[i:i + size])
        out[str(size)] = (time.process_time() - start) * 1000 / len(texts)
print("RESULT " + json.dumps(out))
"""


def run(mode: str, texts: list[str], sizes: list[int]) -> dict:
    sys.path.insert(0, str(ROOT))
    from bot.config import Settings
    from bot.nlu.train import current_model

    settings = Settings.from_env()
    payload = json.dumps([texts, str(current_model(settings)), str(settings.nlu_project), mode, sizes])
    proc = subprocess.run([str(settings.nlu_venv / "bin" / "python"), "-c", SCRIPT], input=payload,
                          capture_output=True, text=True, timeout=1800,
                          env=dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3",
                                   LOG_LEVEL="WARNING"))
    if proc.returncode != 0:
        sys.exit(proc.stderr[-3000:])
    line = next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bot.nlu.data import read_tsv

    texts = [e.text for p in sorted((ROOT / "nlu" / "heldout").glob("*.tsv")) for e in read_tsv(p)][:480]
    sizes = [1, 2, 4, 8, 16]
    plain = run("plain", texts, sizes)
    batch = run("batch", texts, sizes)
    print(f"NLU CPU per message, in process, {len(texts)} held-out messages:")
    print(f"  plain Rasa, one at a time: {plain['1']:.1f} ms")
    for size in sizes:
        print(f"  safesafar_batch, batches of {size:>2}: {batch[str(size)]:.1f} ms")


if __name__ == "__main__":
    main()
