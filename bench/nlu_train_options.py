"""Training time against accuracy for NLU pipeline options, chosen on a validation split of the TRAINING
data (never on nlu/heldout/, which stays for the one final check).

    .venv/bin/python bench/nlu_train_options.py                  (every option below)
    .venv/bin/python bench/nlu_train_options.py baseline e40     (some of them)
    .venv/bin/python bench/nlu_train_options.py --list

The split: 10% of the examples of every (language, intent) file of nlu/data (seeded, at least one when a
file has 5 or more), written with the rest of the data (entities, lookup tables) to a work folder; the
90% is the training data of every option. Each option is nlu/config.yml with a few keys changed; it is
trained with `rasa train nlu` (its own process) and the wall time, the CPU time (user+sys of the whole
process tree, from the kernel's rusage of reaped children), the DIET share (from Rasa's log) and the
load average are recorded. The model is then served by a Rasa server and the validation messages go
through the whole understanding path (language identification, Rasa, the danger net), as
`safesafar nlu evaluate` does: intent accuracy overall and per language, urgent recall, false urgent.

Finetuning (`finetune:<option>:<fraction>`): the option is trained on the 90% minus 200 examples, then
`rasa train nlu --finetune <that model> --epoch-fraction <fraction>` on the whole 90% (200 new
examples, the learning loop's case) is what is timed and scored.

Results are appended as JSON lines to var/bench/nlu_train_options.jsonl and printed as a table.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.nlu.data import Example, strip_annotations  # noqa: E402

SEED = 20
FRACTION = 0.10
NEW_EXAMPLES = 200  # finetuning: examples added since the base model
DEV_NEARMISS = ("nearmiss-dev", "nearmiss-aside")


def _diet(**changes):
    def apply(config):
        for step in config["pipeline"]:
            if step["name"] == "DIETClassifier":
                step.update(changes)
    return apply


def _char(**changes):
    def apply(config):
        for step in config["pipeline"]:
            if step["name"] == "CountVectorsFeaturizer" and step.get("analyzer") == "char_wb":
                step.update(changes)
    return apply


def _both(*fns):
    def apply(config):
        for fn in fns:
            fn(config)
    return apply


def _no_lexical(config):
    # with number_of_transformer_layers 0, DIET's intent sees only the sentence features (the __CLS__
    # token); LexicalSyntacticFeaturizer makes token (sequence) features only
    config["pipeline"] = [s for s in config["pipeline"] if s["name"] != "LexicalSyntacticFeaturizer"]


def _logreg(config):
    for i, step in enumerate(config["pipeline"]):
        if step["name"] == "DIETClassifier":
            config["pipeline"][i] = {"name": "LogisticRegressionClassifier", "max_iter": 200, "random_state": 20180430}


OPTIONS = {
    "baseline": lambda c: None,                                   # nlu/config.yml as it is
    "e100": _diet(epochs=100),
    "e70": _diet(epochs=70),
    "e50": _diet(epochs=50),
    "e30": _diet(epochs=30),
    "e20": _diet(epochs=20),
    "e40_b128": _diet(epochs=40, batch_size=[128, 256]),
    "e50_f8k": _both(_diet(epochs=50), _char(max_features=8000, min_df=3)),
    "e30_f8k": _both(_diet(epochs=30), _char(max_features=8000, min_df=3)),
    "e40_ng3": _both(_diet(epochs=40), _char(max_ngram=3)),
    "e40_h128": _diet(epochs=40, hidden_layers_sizes={"text": [128]}),
    "e100_eval": _diet(evaluate_every_number_of_epochs=10, evaluate_on_number_of_examples=500, checkpoint_model=True),
    "e30_nolex": _both(_diet(epochs=30), _no_lexical),
    "e30_nolex_f8k": _both(_diet(epochs=30), _no_lexical, _char(max_features=8000, min_df=3)),
    "e50_nolex_f8k": _both(_diet(epochs=50), _no_lexical, _char(max_features=8000, min_df=3)),
    "logreg": _logreg,
}


def split(settings: Settings, work: Path) -> tuple[Path, list[Example]]:
    """Write the 90% training data to work/data; return it and the 10% validation examples."""
    source = settings.nlu_project / "data"
    target = work / "data"
    if target.exists():
        shutil.rmtree(target)
    rng = random.Random(SEED)
    validation: list[Example] = []
    for path in sorted(source.rglob("*.yml")):
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        items = data.get("nlu") or []
        if not any("intent" in item for item in items):
            shutil.copy(path, out)
            continue
        blocks = ['version: "3.1"', "nlu:"]
        for item in items:
            lines = [l.strip()[2:].strip() for l in str(item.get("examples", "")).splitlines() if l.strip().startswith("- ")]
            k = max(1, round(len(lines) * FRACTION)) if len(lines) >= 5 else 0
            held = set(rng.sample(range(len(lines)), k))
            validation += [Example(strip_annotations(lines[i]), item["intent"], path.parent.name) for i in sorted(held)]
            kept = [lines[i] for i in range(len(lines)) if i not in held]
            blocks += [f"- intent: {item['intent']}", "  examples: |"] + [f"    - {t}" for t in kept]
        out.write_text("\n".join(blocks) + "\n", encoding="utf-8")
    return target, validation


def drop_new(data: Path, target: Path, n: int) -> Path:
    """A copy of `data` without n random intent examples (the base model of a finetuning run)."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(data, target)
    lines = []
    for path in sorted(target.rglob("*.yml")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if line.startswith("    - "):
                lines.append((path, i))
    drop = set(random.Random(SEED + 1).sample(lines, n))
    for path in sorted({p for p, _ in drop}):
        text = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join(l for i, l in enumerate(text) if (path, i) not in drop) + "\n", encoding="utf-8")
    return target


def write_config(settings: Settings, option: str, path: Path) -> Path:
    config = yaml.safe_load((settings.nlu_project / "config.yml").read_text(encoding="utf-8"))
    config = copy.deepcopy(config)
    OPTIONS[option](config)
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def train(settings: Settings, config: Path, data: Path, out: Path, name: str, extra: list[str] = ()) -> dict:
    rasa = settings.nlu_venv / "bin" / "rasa"
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", RASA_MAX_CACHE_SIZE="0",
               RASA_CACHE_DIRECTORY=str(out / f"cache-{name}"), TF_CPP_MIN_LOG_LEVEL="2")
    cmd = [str(rasa), "train", "nlu", "--config", str(config), "--nlu", str(data), "--out", str(out),
           "--fixed-model-name", name, *extra]
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    log_path = out / f"{name}.train.log"
    with log_path.open("w", encoding="utf-8") as log:
        code = subprocess.call(cmd, cwd=str(out), env=env, stdout=log, stderr=subprocess.STDOUT)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(out / f"cache-{name}", ignore_errors=True)
    if code != 0:
        sys.exit(f"training {name} failed (exit {code}); see {log_path}")
    log = log_path.read_text(encoding="utf-8", errors="replace")
    stamps = {kind.split()[0]: stamp for stamp, kind in re.findall(
        r"^(\S+ \S+) INFO\s+rasa\.engine\.training\.hooks\s+- (Starting to train|Finished training) component "
        r"'(?:DIETClassifier|LogisticRegressionClassifier)'", log, re.M)}
    classifier = None
    if "Starting" in stamps and "Finished" in stamps:
        fmt = "%Y-%m-%d %H:%M:%S"
        classifier = time.mktime(time.strptime(stamps["Finished"], fmt)) - time.mktime(time.strptime(stamps["Starting"], fmt))
    model = out / f"{name}.tar.gz"
    return {"wall_s": round(wall, 1), "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
            "classifier_wall_s": classifier, "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
            "model_mb": round(model.stat().st_size / 1e6, 1), "model": str(model)}


def evaluate(settings: Settings, model: Path, examples: list[Example] | None, port: int) -> dict:
    """Validation scores (when examples are given) and the near-miss DEVELOPMENT sets' urgency
    (nlu/nearmiss-dev/, nlu/nearmiss-aside/: tuning sets by the README, never nlu/nearmiss/)."""
    from bot.nlu.evaluate import evaluate_nearmiss, evaluate_sets, nearmiss_files, read_nearmiss
    from bot.nlu.server import RasaProcess
    from bot.services import build_understander

    url = f"http://127.0.0.1:{port}"
    process = RasaProcess(settings, model, url, log_path=model.with_suffix(".server.log"))
    process.start()
    out: dict = {}
    try:
        process.wait_ready(timeout=900)
        understander, _ = build_understander(settings, url)
        if examples:
            s, _results = evaluate_sets(understander, {"validation": examples})["validation"]
            out = {"accuracy": round(s.accuracy, 4), "per_language": {k: round(v, 4) for k, v in s.per_language.items()},
                   "urgent_recall": round(s.urgent_recall, 4), "false_urgent": round(s.urgent_false_rate, 5), "n": s.n}
        files = [f for d in DEV_NEARMISS for f in nearmiss_files(settings.nlu_project / d)]
        sets = {f"{f.parent.name}/{f.stem}": read_nearmiss(f) for f in files}
        scores = evaluate_nearmiss(understander, sets)
        every = (scores.get("all") or next(iter(scores.values()))).per_language["all"]
        out["dev_nearmiss"] = {"false_urgent": round(every["false_urgent"], 4), "urgent_recall": round(every["urgent_recall"], 4),
                               "n_ordinary": every["n_ordinary"], "n_danger": every["n_danger"]}
    finally:
        process.stop()
    return out


def model_name(option: str) -> str:
    """The file name (without .tar.gz) of an option's model: Rasa cuts a --fixed-model-name at its first
    dot (finetune:baseline:0.25 would be saved as finetune-baseline-0.tar.gz)."""
    return option.replace(":", "-").replace(".", "_")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def row(name: str, r: dict) -> str:
    langs = r.get("per_language") or {}
    dev = r.get("dev_nearmiss") or {}
    val = (f"{r['accuracy']:.3f} | {langs.get('en', 0):.3f} | {langs.get('ur', 0):.3f} | {langs.get('ur-Latn', 0):.3f} "
           f"| {r['urgent_recall']:.3f} | {100 * r['false_urgent']:.2f}%") if "accuracy" in r else "- | - | - | - | - | -"
    return (f"| {name} | {r.get('wall_s', 0):.0f} | {r.get('cpu_s', 0):.0f} | {r.get('classifier_wall_s') or 0:.0f} "
            f"| {r.get('load_before')}/{r.get('load_after')} | {r.get('model_mb')} | {val} "
            f"| {dev.get('urgent_recall', 0):.3f} | {100 * dev.get('false_urgent', 0):.1f}% |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("options", nargs="*", help="option names, or finetune:<option>:<fraction> (default: all options)")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--work", default=str(ROOT / "var" / "bench" / "train-options"))
    parser.add_argument("--keep-models", action="store_true", help="keep the trained models in the work folder")
    parser.add_argument("--full", action="store_true",
                        help="train on the whole of nlu/data (no validation split; near-miss development sets only)")
    parser.add_argument("--score", metavar="MODEL", help="only score this trained model on the near-miss development sets")
    args = parser.parse_args()
    if args.list:
        print("\n".join(OPTIONS))
        return 0
    os.environ.setdefault("NLU_WORKERS", "1")
    settings = Settings.from_env()
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    data, validation = split(settings, work)
    print(f"validation split: {len(validation)} examples (en {sum(e.lang == 'en' for e in validation)}, "
          f"ur {sum(e.lang == 'ur' for e in validation)}, ur-Latn {sum(e.lang == 'ur-Latn' for e in validation)}); "
          f"emergency {sum(e.intent == 'emergency' for e in validation)}", flush=True)
    if args.full:
        data, validation = settings.nlu_project / "data", None
    results_path = ROOT / "var" / "bench" / "nlu_train_options.jsonl"
    print("| option | wall s | CPU s | classifier wall s | load before/after | model MB | val. acc | en | ur | ur-Latn "
          "| urgent recall | false urgent | dev near-miss urgent recall | dev near-miss false urgent |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    if args.score:
        r = evaluate(settings, Path(args.score).resolve(), None, free_port())
        r.update(option=f"score:{Path(args.score).name}", time=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()))
        with (ROOT / "var" / "bench" / "nlu_train_options.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(r) + "\n")
        print(row(r["option"], r))
        return 0
    for name in args.options or list(OPTIONS):
        models = work / "models"
        if name.startswith("finetune:"):
            _, option, fraction = name.split(":")
            config = write_config(settings, option, work / f"config-{option}.yml")
            base_data = drop_new(data, work / "data-base", NEW_EXAMPLES)
            base = train(settings, config, base_data, models, f"base-{option}")
            r = train(settings, config, data, models, model_name(name),
                      ["--finetune", base["model"], "--epoch-fraction", fraction])
            r["base_wall_s"], r["base_cpu_s"] = base["wall_s"], base["cpu_s"]
        else:
            config = write_config(settings, name, work / f"config-{name}.yml")
            r = train(settings, config, data, models, name)
        r.update(evaluate(settings, Path(r["model"]), validation, free_port()))
        r.update(option=name + (" (full data)" if args.full else ""), time=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()))
        with results_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(r) + "\n")
        print(row(name, r), flush=True)
        if not args.keep_models:
            for p in models.glob(f"{model_name(name)}*.tar.gz"):
                p.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
