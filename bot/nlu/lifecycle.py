"""The learning loop's second half: retrain a candidate model, test it against the model served (the
gate), promote it on every running Rasa server without downtime, roll back. The history is the table
nlu_models (bot/storage/model_store.py); the model served is the one nlu/models/active.json names
(bot/nlu/train.py).

- Retraining works on a snapshot of nlu/ (the inbox may write more examples meanwhile). When only
  examples changed since the model served (same config, same intents, same entities), it continues
  that model (`rasa train nlu --finetune <model> --epoch-fraction F`); otherwise it trains from scratch.
- The gate runs the held-out sets (nlu/heldout/) and the near-miss sets (nlu/nearmiss/) through the
  whole understanding path with the code of `nlu evaluate` and tests/test_nlu_quality.py
  (bot/nlu/evaluate.py), on one Rasa server of its own: first the model served, then the candidate
  loaded into the same server with PUT /model. GATE holds the limits.
- Promotion copies the candidate next to the other models and asks each replica (NLU_REPLICAS) to
  load it with Rasa's PUT /model: a replica keeps answering with the old model until the new one is
  loaded (nlu/safesafar_batch.py finishes the requests it holds on the model they arrived on). Then
  active.json points at it; a running bot reloads its language identifier from there
  (train.ActiveLanguageIdentifier). Rollback is the same step with the previous model.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

import httpx

from ..config import Settings
from ..storage import model_store as ms
from .train import (current_langid, current_model, inputs_hash, model_path, read_active,
                    run_rasa_train, sync_generated, write_active)

# The gate's limits (issue 20). False-urgent targets: tests/test_nlu_quality.py's for the held-out sets
# (2 %) and the near-miss sets' (3 %); a model already above one may not rise further.
GATE = {"accuracy_drop": 0.005, "language_drop": 0.01, "false_urgent_target": 0.02,
        "nearmiss_false_urgent_target": 0.03}
EPOCH_FRACTION = 0.25  # of the config's epochs, when finetuning
CANDIDATES = "candidates"
KEEP_OLD_MODELS = 3  # retired model files kept besides the active one (rollback needs the newest)
EPS = 1e-9

Progress = Callable[[str, float | None], None]


# -- what a model was trained on --------------------------------------------------------------------------

def _digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def describe(settings: Settings) -> dict:
    """The training inputs of settings.nlu_project: their hash, the config's, the intents, the entity
    data's hash, and the examples per language."""
    from .data import read_examples

    project = settings.nlu_project
    data = project / "data"
    examples: dict[str, int] = {}
    intents: set[str] = set()
    entity_types: set[str] = set()
    for lang_dir in sorted(p for p in data.iterdir() if p.is_dir() and p.name != "entities"):
        found = read_examples(lang_dir, lang=lang_dir.name)
        examples[lang_dir.name] = len(found)
        intents |= {e.intent for e in found}
        for path in lang_dir.rglob("*.yml"):
            text = path.read_text(encoding="utf-8")
            entity_types |= {m.group(1) or m.group(2) for m in _ENTITY_NAMES.finditer(text)}
    entity_files = sorted((data / "entities").rglob("*.yml")) if (data / "entities").is_dir() else []
    entities = hashlib.sha256((_digest(entity_files) + "|" + ",".join(sorted(entity_types))).encode()).hexdigest()[:16]
    config_files = [project / "config.yml", settings.root / "requirements" / "nlu.lock"]
    return {"inputs": inputs_hash(settings), "config": _digest([p for p in config_files if p.is_file()]),
            "intents": sorted(intents), "entities": entities, "examples": examples,
            "total_examples": sum(examples.values())}


_ENTITY_NAMES = re.compile(r'\]\((\w+)|"entity":\s*"(\w+)"')


def plan(old: dict | None, new: dict) -> tuple[str, str]:
    """("finetune" | "full" | "none", why) for a candidate trained on `new` after the model trained on `old`."""
    if old is None:
        return "full", "the model served has no record of what it was trained on"
    if old.get("inputs") == new["inputs"]:
        return "none", "nothing changed since the model served was trained"
    for key, what in (("config", "the pipeline or the NLU environment"), ("intents", "the intents"),
                      ("entities", "the entities")):
        if old.get(key) != new[key]:
            return "full", f"{what} changed"
    return "finetune", "only examples changed"


@contextlib.contextmanager
def snapshot(settings: Settings) -> Iterator[Settings]:
    """A copy of what training reads (config.yml, data/, requirements/nlu.lock), with the same relative
    paths, so that its inputs_hash is the project's."""
    sync_generated(settings)
    with tempfile.TemporaryDirectory(prefix="safesafar-snapshot-") as tmp:
        root = Path(tmp)
        project = root / settings.nlu_project.relative_to(settings.root) if settings.nlu_project.is_relative_to(
            settings.root) else root / "nlu"
        project.mkdir(parents=True)
        shutil.copy2(settings.nlu_project / "config.yml", project / "config.yml")
        # the training data the inbox applies examples to (NLU_DATA_DIR, nlu/data by default)
        data = getattr(settings, "nlu_data_dir", None) or settings.nlu_project / "data"
        shutil.copytree(data, project / "data")
        if not (project / "data" / "entities").is_dir() and (settings.nlu_project / "data" / "entities").is_dir():
            shutil.copytree(settings.nlu_project / "data" / "entities", project / "data" / "entities")
        lock = settings.root / "requirements" / "nlu.lock"
        if lock.is_file():
            (root / "requirements").mkdir()
            shutil.copy2(lock, root / "requirements" / "nlu.lock")
        yield replace(settings, root=root, nlu_project=project)


# -- the gate ----------------------------------------------------------------------------------------------

@dataclass
class Evaluation:
    scores: dict  # summary (as stored per model)
    answers: dict  # key -> answer, for the messages that changed


def evaluate_model(settings: Settings, url: str, langid: Path, heldout_dir: Path | None = None,
                   nearmiss_dir: Path | None = None) -> Evaluation:
    """The model served at `url` on the held-out and near-miss sets, through the whole understanding
    path (as `nlu evaluate` and tests/test_nlu_quality.py)."""
    import asyncio

    from ..services import build_understander
    from .data import read_tsv
    from .evaluate import evaluate_nearmiss, evaluate_sets, nearmiss_files, read_nearmiss
    from .train import load_language_identifier

    heldout_dir = heldout_dir or settings.nlu_project / "heldout"
    nearmiss_dir = nearmiss_dir or settings.nlu_project / "nearmiss"
    sets = {p.stem: read_tsv(p) for p in sorted(heldout_dir.glob("*.tsv"))}
    if not sets:
        raise RuntimeError(f"no held-out sets in {heldout_dir}")
    near_sets = {p.stem: read_nearmiss(p) for p in nearmiss_files(nearmiss_dir)}
    understander, client = build_understander(settings, url, languages=load_language_identifier(settings, langid))
    try:
        results = evaluate_sets(understander, sets)
        near = evaluate_nearmiss(understander, near_sets) if near_sets else {}
    finally:
        asyncio.run(client.aclose())
    overall = results["all"][0]
    scores = overall.as_dict()
    answers = {}
    for name, examples in sets.items():
        for ex, res in zip(examples, results[name][1]):
            answers[f"heldout\t{name}\t{ex.lang}\t{ex.intent}\t{ex.text}"] = [res.intent or "none", res.priority]
    if near:
        near_all = near.get("all") or next(iter(near.values()))
        scores["nearmiss"] = near_all.per_language
        for name, examples in near_sets.items():
            wrong = {(e.lang, e.text) for e, _ in near[name].errors}
            for ex in examples:
                urgent = (ex.label == "danger") != ((ex.lang, ex.text) in wrong)
                answers[f"nearmiss\t{name}\t{ex.lang}\t{ex.label}\t{ex.text}"] = ["urgent" if urgent else "not urgent",
                                                                                 None]
    return Evaluation(scores, answers)


def compare(old: Evaluation, new: Evaluation, limits: dict = GATE) -> dict:
    """The gate's report: checks (each with old, new, limit, ok), per language and per intent side by
    side, and the messages whose answer changed (better, worse or different)."""
    o, n = old.scores, new.scores
    checks = [{"check": "intent accuracy", "old": o["intent_accuracy"], "new": n["intent_accuracy"],
               "limit": o["intent_accuracy"] - limits["accuracy_drop"],
               "ok": n["intent_accuracy"] >= o["intent_accuracy"] - limits["accuracy_drop"] - EPS}]
    for lang, acc in o["per_language"].items():
        new_acc = n["per_language"].get(lang, 0.0)
        checks.append({"check": f"accuracy {lang}", "old": acc, "new": new_acc, "limit": acc - limits["language_drop"],
                       "ok": new_acc >= acc - limits["language_drop"] - EPS})
    checks.append({"check": "urgent recall (held-out)", "old": o["urgent_recall"], "new": n["urgent_recall"],
                   "limit": o["urgent_recall"], "ok": n["urgent_recall"] >= o["urgent_recall"] - EPS})
    ceiling = max(limits["false_urgent_target"], o["urgent_false_rate"])
    checks.append({"check": "false urgent (held-out)", "old": o["urgent_false_rate"], "new": n["urgent_false_rate"],
                   "limit": ceiling, "ok": n["urgent_false_rate"] <= ceiling + EPS, "max": True})
    if o.get("nearmiss") and n.get("nearmiss"):
        on, nn = o["nearmiss"]["all"], n["nearmiss"]["all"]
        checks.append({"check": "urgent recall (near-miss)", "old": on["urgent_recall"], "new": nn["urgent_recall"],
                       "limit": on["urgent_recall"], "ok": nn["urgent_recall"] >= on["urgent_recall"] - EPS})
        ceiling = max(limits["nearmiss_false_urgent_target"], on["false_urgent"])
        checks.append({"check": "false urgent (near-miss)", "old": on["false_urgent"], "new": nn["false_urgent"],
                       "limit": ceiling, "ok": nn["false_urgent"] <= ceiling + EPS, "max": True})
    intents = sorted(set(o["per_intent"]) | set(n["per_intent"]))
    per_intent = [{"intent": i, "old_f1": o["per_intent"].get(i, {}).get("f1", 0.0),
                   "new_f1": n["per_intent"].get(i, {}).get("f1", 0.0),
                   "old_recall": o["per_intent"].get(i, {}).get("recall", 0.0),
                   "new_recall": n["per_intent"].get(i, {}).get("recall", 0.0),
                   "support": n["per_intent"].get(i, o["per_intent"].get(i, {})).get("support", 0)} for i in intents]
    per_language = [{"lang": lang, "old": o["per_language"].get(lang, 0.0), "new": n["per_language"].get(lang, 0.0),
                     "n": n["per_language_n"].get(lang, o["per_language_n"].get(lang, 0))}
                    for lang in sorted(set(o["per_language"]) | set(n["per_language"]))]
    changed = []
    for key, (new_answer, new_priority) in new.answers.items():
        old_answer, old_priority = old.answers.get(key, [None, None])
        if old_answer == new_answer and old_priority == new_priority:
            continue
        kind, name, lang, expected, text = key.split("\t", 4)
        want = "urgent" if expected == "danger" else "not urgent" if expected == "ordinary" else expected
        verdict = "better" if new_answer == want else "worse" if old_answer == want else "different"
        changed.append({"set": f"{kind}/{name}", "lang": lang, "expected": want, "text": text,
                        "old": old_answer, "new": new_answer, "old_priority": old_priority,
                        "new_priority": new_priority, "verdict": verdict})
    changed.sort(key=lambda c: ({"worse": 0, "different": 1, "better": 2}[c["verdict"]], c["set"], c["lang"]))
    return {"passed": all(c["ok"] for c in checks), "checks": checks, "per_language": per_language,
            "per_intent": per_intent, "changed": changed,
            "summary": {"worse": sum(c["verdict"] == "worse" for c in changed),
                        "better": sum(c["verdict"] == "better" for c in changed)}}


def format_report(report: dict) -> str:
    """The gate's report as text (the CLI prints it)."""
    lines = [f"gate: {'PASSED' if report['passed'] else 'REFUSED'}",
             f"{'check':28} {'old':>8} {'new':>8} {'limit':>8}"]
    for c in report["checks"]:
        bound = ("<= " if c.get("max") else ">= ") + f"{c['limit']:.3f}"
        lines.append(f"{c['check']:28} {c['old']:8.3f} {c['new']:8.3f} {bound:>10}  {'ok' if c['ok'] else 'FAILS'}")
    lines.append("")
    lines.append(f"{'language':10} {'n':>5} {'old':>7} {'new':>7}")
    for row in report["per_language"]:
        lines.append(f"{row['lang']:10} {row['n']:5d} {row['old']:7.3f} {row['new']:7.3f}")
    lines.append("")
    lines.append(f"{'intent':22} {'n':>5} {'old f1':>7} {'new f1':>7} {'old rec':>8} {'new rec':>8}")
    for row in report["per_intent"]:
        lines.append(f"{row['intent']:22} {row['support']:5d} {row['old_f1']:7.3f} {row['new_f1']:7.3f} "
                     f"{row['old_recall']:8.3f} {row['new_recall']:8.3f}")
    lines.append("")
    lines.append(f"changed answers: {len(report['changed'])} ({report['summary']['better']} better, "
                 f"{report['summary']['worse']} worse)")
    for c in report["changed"]:
        lines.append(f"  {c['verdict']:9} {c['set']:28} {c['lang']:7} want {c['expected']:18} "
                     f"{c['old']} -> {c['new']}  {c['text']}")
    return "\n".join(lines)


# -- loading a model into running servers ----------------------------------------------------------------

def serving(url: str, timeout: float = 5.0) -> str | None:
    """The file name of the model a Rasa server has loaded (None when it does not answer)."""
    try:
        response = httpx.get(f"{url.rstrip('/')}/status", timeout=timeout)
        response.raise_for_status()
        return Path(str(response.json().get("model_file") or "")).name or None
    except (httpx.HTTPError, ValueError):
        return None


def load_into(url: str, model: str, timeout: float = 300.0) -> float:
    """PUT /model: the server loads `model` (a path it can read) and then swaps it in; it answers
    requests meanwhile with the model it had (nlu/safesafar_batch.py's PUT; Rasa's own PUT /model, the
    fallback for a server without that channel, answers nothing while it loads). Returns the seconds."""
    started = time.monotonic()
    # the safesafar channel's PUT loads in a thread (nlu/safesafar_batch.py); a plain Rasa server: Rasa's
    response = httpx.put(f"{url.rstrip('/')}/webhooks/safesafar/model", json={"model_file": model}, timeout=timeout)
    if response.status_code in (404, 405):
        response = httpx.put(f"{url.rstrip('/')}/model", json={"model_file": model}, timeout=timeout)
    if response.status_code != 204:
        raise RuntimeError(f"{url} did not load {Path(model).name}: HTTP {response.status_code} {response.text[:300]}")
    name = serving(url)
    if name != Path(model).name:
        raise RuntimeError(f"{url} serves {name} after loading {Path(model).name}")
    return time.monotonic() - started


def replica_urls(settings: Settings) -> list[str]:
    return list(settings.nlu_replicas) or [settings.nlu_url]


def replica_path(settings: Settings, name: str) -> str:
    return str(Path(settings.nlu_replica_models_dir or settings.models_dir) / name)


def swap_replicas(settings: Settings, name: str, previous: str | None, out=sys.stderr) -> dict[str, float]:
    """Loads model `name` (in the models folder) into every replica; if one fails, those already
    switched go back to `previous` and the error is raised. A replica that does not answer is an error
    too (it would start with the old model): start it, or take it out of NLU_REPLICAS."""
    done: dict[str, float] = {}
    try:
        for url in replica_urls(settings):
            if serving(url) is None:
                raise RuntimeError(f"the NLU replica {url} does not answer")
            done[url] = load_into(url, replica_path(settings, name))
            print(f"  {url}: {name} loaded in {done[url]:.1f} s", file=out, flush=True)
    except Exception:
        if previous is not None:
            for url in done:
                with contextlib.suppress(Exception):
                    load_into(url, replica_path(settings, previous))
        raise
    return done


# -- the job -----------------------------------------------------------------------------------------------

def served_description(settings: Settings, engine) -> tuple[Path, Path, dict | None, dict | None]:
    """(model file, langid file, what it was trained on or None, its history row or None)."""
    model = current_model(settings)
    with engine.connect() as conn:
        row = ms.by_file(conn, model.name)
    if row is not None and row.get("data"):
        return model, current_langid(settings), row["data"], row
    active = read_active(settings) or {}
    data = active.get("data")
    if data is None and model.name == model_path(settings).name:
        data = describe(settings)  # trained by `nlu train` on exactly the files there are now
    return model, current_langid(settings), data, row


def run_job(settings: Settings, engine, job_id: int, mode: str = "auto", epoch_fraction: float | None = None,
            out=sys.stderr, heldout_dir: Path | None = None, nearmiss_dir: Path | None = None) -> dict:
    """Trains the candidate of job `job_id`, runs the gate and records everything. Returns the row."""
    last = {"at": 0.0, "fraction": -1.0}

    def progress(stage: str, fraction: float | None) -> None:
        now = time.monotonic()
        if fraction is not None and stage == "training":
            print(f"\r  training: {fraction * 100:.0f}%", end="", file=out, flush=True)
        if stage == "training" and fraction is not None and now - last["at"] < 2 and fraction < 1:
            return
        last["at"] = now
        values = {"stage": stage}
        if fraction is not None:
            values["progress"] = fraction
        ms.update_job(engine, job_id, **values)

    ms.update_job(engine, job_id, status="training", stage="preparing", pid=os.getpid())
    started = time.monotonic()
    try:
        old_model, old_langid, old_data, old_row = served_description(settings, engine)
        with snapshot(settings) as snap:
            data = describe(snap)
            decided, why = plan(old_data, data)
            if mode == "full" or (mode == "finetune" and decided == "none"):
                decided, why = mode, f"{mode} asked for"
            elif mode == "finetune" and decided == "full":
                raise RuntimeError(f"cannot finetune: {why}")
            if decided == "none":
                raise RuntimeError(why)
            print(f"retraining #{job_id}: {decided} ({why}); {data['total_examples']} examples "
                  f"{data['examples']}", file=out, flush=True)
            name = f"nlu-{data['inputs']}-r{job_id}"
            candidates = settings.models_dir / CANDIDATES
            target = candidates / f"{name}.tar.gz"
            langid = candidates / f"langid-{data['inputs']}-r{job_id}.json"
            ms.update_job(engine, job_id, mode=decided, inputs=data["inputs"], data=data, stage="training",
                          base_model=old_model.name if decided == "finetune" else None,
                          model_file=target.name, langid_file=langid.name)
            _train_langid(snap, langid)
            run_rasa_train(snap, snap.nlu_project, target, progress,
                           finetune=old_model if decided == "finetune" else None,
                           epoch_fraction=(epoch_fraction or EPOCH_FRACTION) if decided == "finetune" else None,
                           log_path=settings.models_dir / f"retrain-{job_id}.log")
        train_seconds = time.monotonic() - started
        print(f"\n  trained in {train_seconds:.0f} s; the gate (held-out and near-miss sets, old and new) ...",
              file=out, flush=True)
        ms.update_job(engine, job_id, status="evaluating", stage="evaluating the model served", progress=1.0,
                      train_seconds=train_seconds)
        old_eval, new_eval = evaluate_pair(settings, old_model, old_langid, target, langid,
                                           lambda stage: progress(stage, None), heldout_dir, nearmiss_dir)
        report = compare(old_eval, new_eval)
        report["mode"], report["why"], report["train_seconds"] = decided, why, train_seconds
        report["old_model"], report["new_model"] = old_model.name, target.name
        if old_row is None:
            with engine.begin() as conn:
                ms.add_initial(conn, old_model.name, old_langid.name, (read_active(settings) or {}).get("inputs")
                               or (old_data or {}).get("inputs"), old_data or {}, old_eval.scores)
        elif not old_row.get("scores"):
            ms.update_job(engine, old_row["id"], scores=old_eval.scores)
        ms.update_job(engine, job_id, status="passed" if report["passed"] else "refused", stage="done",
                      scores=new_eval.scores, report=report)
    except Exception as exc:
        print("", file=out)
        ms.update_job(engine, job_id, status="failed", stage="failed", error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    with engine.connect() as conn:
        return ms.get(conn, job_id)


def _train_langid(settings: Settings, path: Path) -> None:
    from ..language import LatinModel, training_samples

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LatinModel.train(training_samples(settings.nlu_project / "data")).to_json(), encoding="utf-8")


def evaluate_pair(settings: Settings, old_model: Path, old_langid: Path, new_model: Path, new_langid: Path,
                  stage: Callable[[str], None] = lambda s: None, heldout_dir: Path | None = None,
                  nearmiss_dir: Path | None = None) -> tuple[Evaluation, Evaluation]:
    """Both models on one Rasa server of the gate's own: the old one, then the new one (PUT /model)."""
    from .server import RasaProcess

    url = f"http://127.0.0.1:{_free_port()}"
    # one Sanic worker: PUT /model reaches one worker only
    process = RasaProcess(replace(settings, nlu_workers=1), old_model, url, log_path=settings.models_dir / "gate-server.log")
    process.start()
    try:
        process.wait_ready()
        stage("evaluating the model served")
        old = evaluate_model(settings, url, old_langid, heldout_dir, nearmiss_dir)
        stage("evaluating the candidate")
        load_into(url, str(new_model))
        new = evaluate_model(settings, url, new_langid, heldout_dir, nearmiss_dir)
    finally:
        process.stop()
    return old, new


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fail_stale(settings: Settings, engine, now=None) -> None:
    """A job whose process is gone (killed, machine restarted) is marked failed, freeing the slot; a
    queued one whose process has not started within two minutes too."""
    from datetime import datetime, timezone

    with engine.connect() as conn:
        job = ms.running_job(conn)
    if job is None:
        return
    alive = False
    if job.get("pid"):
        try:
            os.kill(job["pid"], 0)
            alive = True
        except ProcessLookupError:
            alive = False
        except PermissionError:
            alive = True
    elif job["status"] == "queued":
        created = job["created_at"]
        if created.tzinfo is None:  # SQLite gives naive UTC
            created = created.replace(tzinfo=timezone.utc)
        alive = ((now or datetime.now(timezone.utc)) - created).total_seconds() < 120
    if not alive:
        ms.update_job(engine, job["id"], status="failed", stage="failed",
                      error="the retraining process ended without finishing (killed or crashed)")


def spawn_job(settings: Settings, job_id: int, mode: str = "auto") -> int:
    """Runs job `job_id` in a process of its own (`safesafar nlu retrain --job N`), which outlives the
    console's request and the console itself. Returns its pid."""
    import subprocess

    log = settings.models_dir / f"retrain-{job_id}.out"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DATABASE_URL=settings.database_url, NLU_MODELS_DIR=str(settings.models_dir),
               RASA_TELEMETRY_ENABLED="false", PYTHONPATH=str(settings.root))
    with log.open("ab") as handle:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "nlu", "retrain", "--job", str(job_id),
                                 "--mode", mode], cwd=settings.root, env=env, stdout=handle,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    return proc.pid


# -- promotion and rollback ------------------------------------------------------------------------------

class PromotionRefused(RuntimeError):
    pass


def promote(settings: Settings, engine, model_id: int, actor: str, out=sys.stderr) -> dict:
    """Serves model `model_id` (a candidate that passed the gate, or an earlier model): every replica
    loads it, then active.json points at it, and the history says so. The model served before is kept."""
    with engine.connect() as conn:
        row = ms.get(conn, model_id)
        current = ms.active(conn)
    if row is None:
        raise PromotionRefused(f"no model #{model_id}")
    if row["status"] not in ("passed", "retired", "rolled_back"):
        raise PromotionRefused(f"model #{model_id} is {row['status']}: only a candidate that passed the gate "
                               f"(or an earlier model) can be served")
    name, langid = row["model_file"], row["langid_file"]
    for file in (name, langid):
        source = settings.models_dir / CANDIDATES / file
        if not (settings.models_dir / file).is_file() and source.is_file():
            shutil.copy2(source, settings.models_dir / f"{file}.partial")
            (settings.models_dir / f"{file}.partial").replace(settings.models_dir / file)
    if not (settings.models_dir / name).is_file():
        raise PromotionRefused(f"the file of model #{model_id} ({name}) is gone")
    old = current_model(settings)
    old_langid = current_langid(settings)
    if current is None:  # served before the learning loop knew it: recorded, so that rollback finds it
        with engine.begin() as conn:
            ms.add_initial(conn, old.name, old_langid.name, (read_active(settings) or {}).get("inputs"),
                           (read_active(settings) or {}).get("data") or {}, None)
    seconds = swap_replicas(settings, name, old.name, out=out)
    write_active(settings, {"model": name, "langid": langid, "inputs": row["inputs"], "data": row["data"],
                            "id": model_id, "source": "promote"})
    with engine.begin() as conn:
        ms.mark_served(conn, model_id, actor)
    (settings.models_dir / CANDIDATES / name).unlink(missing_ok=True)
    (settings.models_dir / CANDIDATES / langid).unlink(missing_ok=True)
    prune(settings, engine)
    return {"model": name, "replicas": seconds}


def rollback(settings: Settings, engine, actor: str, out=sys.stderr) -> dict:
    """Serves the model served before the active one again; the active one becomes `rolled_back`."""
    with engine.connect() as conn:
        target = ms.previous(conn)
        current = ms.active(conn)
    if target is None or not (settings.models_dir / target["model_file"]).is_file():
        raise PromotionRefused("there is no earlier model to go back to")
    name = target["model_file"]
    seconds = swap_replicas(settings, name, current_model(settings).name, out=out)
    write_active(settings, {"model": name, "langid": target["langid_file"], "inputs": target["inputs"],
                            "data": target["data"], "id": target["id"], "source": "rollback"})
    with engine.begin() as conn:
        ms.mark_served(conn, target["id"], actor, old_status="rolled_back")
    return {"model": name, "replicas": seconds, "from": current["model_file"] if current else None}


def prune(settings: Settings, engine) -> None:
    """Keeps the active model, the KEEP_OLD_MODELS newest earlier ones, and the newest candidates."""
    with engine.connect() as conn:
        rows = ms.history(conn, limit=10_000)
    served = [r for r in rows if r["status"] in ("retired", "rolled_back") and r["model_file"]]
    for row in served[KEEP_OLD_MODELS:]:
        for file in (row["model_file"], row["langid_file"]):
            if file and "-r" in file:  # the learning loop's own files only (`nlu train` prunes its own)
                (settings.models_dir / file).unlink(missing_ok=True)
    candidates = [r for r in rows if r["status"] in ("refused", "failed", "passed") and r["model_file"]]
    for row in candidates[2:]:
        for file in (row["model_file"], row["langid_file"]):
            if file:
                (settings.models_dir / CANDIDATES / file).unlink(missing_ok=True)
