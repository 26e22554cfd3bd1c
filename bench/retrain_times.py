"""Retrain times on the real data (issue 20): a copy of nlu/ (nlu/data is never touched) served by the
current model, ~200 new examples added (the drafts in nlu/drafts/, labelled with the contract intent
each draft maps to), then `safesafar nlu retrain`'s job (bot/nlu/lifecycle.run_job): a finetune of the
model served (auto: only examples changed) and a full training of the same data, each followed by the
gate. Prints the times, the gate's reports and the machine's load.

    .venv/bin/python bench/retrain_times.py [--epoch-fraction 0.25] [--skip-full] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import ROOT, Settings  # noqa: E402
from bot.nlu import lifecycle  # noqa: E402
from bot.nlu.train import current_langid, current_model, write_active  # noqa: E402
from bot.storage import model_store as ms  # noqa: E402
from bot.storage.db import make_engine  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402

MAPS_TO = re.compile(r"maps_to:\s*(\w+)")


def draft_examples() -> list[tuple[str, str, str]]:
    """(lang, contract intent, text) of every draft."""
    from bot.contract import contract

    known = set(contract().intents)
    out = []
    for path in sorted((ROOT / "nlu" / "drafts").glob("*.yml")):
        found = MAPS_TO.search(path.read_text(encoding="utf-8"))
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            intent = item["intent"] if item["intent"] in known else found.group(1) if found else None
            if intent is None:
                continue
            lang = (item.get("metadata") or {}).get("lang", "en")
            for line in str(item.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    out.append((lang, intent, line.strip()[2:].strip()))
    return out


def uptime() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epoch-fraction", type=float, default=lifecycle.EPOCH_FRACTION)
    parser.add_argument("--skip-full", action="store_true")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"
    base = Settings.from_env()
    root = Path(args.out or tempfile.mkdtemp(prefix="safesafar-retrain-bench-"))
    shutil.copytree(ROOT / "nlu", root / "nlu", ignore=shutil.ignore_patterns("models"), dirs_exist_ok=True)
    (root / "requirements").mkdir(exist_ok=True)
    shutil.copy(ROOT / "requirements" / "nlu.lock", root / "requirements" / "nlu.lock")
    models = root / "models"
    models.mkdir(exist_ok=True)
    model, langid = current_model(base), current_langid(base)
    shutil.copy2(model, models / model.name)
    shutil.copy2(langid, models / langid.name)
    db = f"sqlite:///{root / 'bench.db'}"
    upgrade(db)
    settings = replace(base, root=root, nlu_project=root / "nlu", nlu_data_dir=root / "nlu" / "data", models_dir=models,
                       database_url=db)
    write_active(settings, {"model": model.name, "langid": langid.name, "inputs": lifecycle.inputs_hash(settings),
                            "data": lifecycle.describe(settings), "source": "bench"})
    added = draft_examples()
    by_file: dict[Path, list[str]] = {}
    for lang, intent, text in added:
        by_file.setdefault(root / "nlu" / "data" / lang / f"{intent}.yml", []).append(text)
    for path, texts in by_file.items():
        with path.open("a", encoding="utf-8") as handle:
            handle.write("".join(f"    - {t}\n" for t in texts))
    print(f"{len(added)} examples added to a copy of nlu/ in {root}; served: {model.name}; load {uptime()}",
          flush=True)
    engine = make_engine(db)
    results = {}
    for mode in ("auto",) + (() if args.skip_full else ("full",)):
        job = ms.create_job(engine, "bench", mode)
        started = time.monotonic()
        row = lifecycle.run_job(settings, engine, job, mode=mode, epoch_fraction=args.epoch_fraction)
        total = time.monotonic() - started
        print(lifecycle.format_report(row["report"]), flush=True)
        results[row["mode"]] = {"train_seconds": row["train_seconds"], "job_seconds": total,
                                "status": row["status"], "load_after": uptime(),
                                "accuracy": row["scores"]["intent_accuracy"],
                                "per_language": row["scores"]["per_language"]}
        print(f"== {row['mode']}: trained in {row['train_seconds']:.0f} s, with the gate {total:.0f} s: "
              f"{row['status']}; load {uptime()}", flush=True)
    (root / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
