"""`safesafar nlu evaluate`: how well the assistant understands messages it never trained on.

Runs the whole understanding path (language identification, Rasa, the danger safety net) over the
held-out sets and reports intent precision/recall/F1, accuracy per language, language identification
accuracy, urgent recall on emergencies and the urgent rate on everything else. Writes
<out>/nlu-report.json, <out>/nlu-errors.tsv and <out>/confusion-matrix.png.

It also runs the near-miss sets (nlu/nearmiss/*.tsv: lang, label, text; label `ordinary` for a
question that uses danger words and must not be urgent, `danger` for a present danger that must be):
per language, the false-urgent rate on the ordinary ones, the urgent recall on the dangers, and how
many dangers got only the question "Is someone in danger right now?". Those sets are written by people
who never saw the danger lexicon; the lexicon is tuned on nlu/nearmiss-dev/ (`--nearmiss` points the
report at another folder) and never on them. <out>/nearmiss-errors.tsv lists what went wrong.
"""
from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..understanding import Understander, Understanding
from .data import Example, read_tsv

NEARMISS_LABELS = ("ordinary", "danger")


@dataclass
class Scores:
    n: int
    accuracy: float
    per_language: dict[str, float]
    per_language_n: dict[str, int]
    per_intent: dict[str, dict[str, float]]
    language_accuracy: float
    urgent_recall: float
    urgent_false_rate: float
    confusion: dict[str, Counter]
    errors: list[tuple[Example, Understanding]]
    finer: dict[str, dict[str, float]] = field(default_factory=dict)  # per finer intent: recall, precision, n

    def as_dict(self) -> dict:
        return {"n": self.n, "intent_accuracy": self.accuracy, "per_language": self.per_language,
                "per_language_n": self.per_language_n, "per_intent": self.per_intent,
                "language_accuracy": self.language_accuracy, "urgent_recall": self.urgent_recall,
                "urgent_false_rate": self.urgent_false_rate, "finer": self.finer}


def finer_scores(examples: list[Example], results: list[Understanding]) -> dict[str, dict[str, float]]:
    """Per finer intent (held-out messages labelled with one): how many got it as their detail (recall), and
    of the messages that got it, how many were labelled with it (precision)."""
    from ..contract import contract

    names = set(contract().finer)
    out = {}
    for name in sorted(names & ({e.intent for e in examples} | {r.detail for r in results})):
        labelled = [r for e, r in zip(examples, results) if e.intent == name]
        given = [e for e, r in zip(examples, results) if r.detail == name]
        hits = sum(r.detail == name for r in labelled)
        out[name] = {"recall": hits / len(labelled) if labelled else 0.0,
                     "precision": sum(e.intent == name for e in given) / len(given) if given else 0.0,
                     "n": len(labelled), "given": len(given)}
    return out


def score(examples: list[Example], results: list[Understanding]) -> Scores:
    """The contract-level scores: a held-out message labelled with a finer intent counts under its contract
    intent (that is what the contract asks); `finer` says how often the finer intent itself was found."""
    from ..contract import contract

    finer = finer_scores(examples, results)
    examples = [Example(e.text, contract().name(e.intent), e.lang) for e in examples]
    correct = Counter()
    totals = Counter()
    tp, fp, fn = Counter(), Counter(), Counter()
    confusion: dict[str, Counter] = defaultdict(Counter)
    lang_ok = 0
    em_total = em_urgent = other_total = other_urgent = 0
    errors = []
    for ex, res in zip(examples, results):
        totals[ex.lang] += 1
        predicted = res.intent or "none"
        confusion[ex.intent][predicted] += 1
        if predicted == ex.intent:
            correct[ex.lang] += 1
            tp[ex.intent] += 1
        else:
            fn[ex.intent] += 1
            fp[predicted] += 1
            errors.append((ex, res))
        lang_ok += res.language == ex.lang
        if ex.intent == "emergency":
            em_total += 1
            em_urgent += res.priority == "urgent"
        else:
            other_total += 1
            other_urgent += res.priority == "urgent"
    per_intent = {}
    for intent in sorted(set(tp) | set(fn) | {i for i in fp if i != "none"}):
        p = tp[intent] / (tp[intent] + fp[intent]) if tp[intent] + fp[intent] else 0.0
        r = tp[intent] / (tp[intent] + fn[intent]) if tp[intent] + fn[intent] else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        per_intent[intent] = {"precision": p, "recall": r, "f1": f1, "support": tp[intent] + fn[intent]}
    n = len(examples)
    return Scores(
        n=n, accuracy=sum(correct.values()) / n if n else 0.0,
        per_language={lang: correct[lang] / totals[lang] for lang in sorted(totals)},
        per_language_n=dict(sorted(totals.items())), per_intent=per_intent,
        language_accuracy=lang_ok / n if n else 0.0,
        urgent_recall=em_urgent / em_total if em_total else 1.0,
        urgent_false_rate=other_urgent / other_total if other_total else 0.0,
        confusion=confusion, errors=errors, finer=finer)


@dataclass(frozen=True)
class NearMiss:
    lang: str
    label: str  # ordinary | danger
    text: str


def read_nearmiss(path: Path) -> list[NearMiss]:
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    out = []
    for number, row in enumerate(rows, start=2):
        if not (row.get("text") or "").strip():
            continue
        label = (row.get("label") or "").strip()
        if label not in NEARMISS_LABELS:
            raise ValueError(f"{path}:{number}: label must be one of {NEARMISS_LABELS}, not {label!r}")
        out.append(NearMiss(row["lang"].strip(), label, row["text"].strip()))
    return out


def nearmiss_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.tsv")) if folder.is_dir() else []


@dataclass
class NearMissScores:
    """Per language and over all ("all"): n_ordinary, false_urgent (rate), n_danger, urgent_recall,
    asked (dangers that got only the "are you in danger?" question), asked_ordinary."""
    per_language: dict[str, dict[str, float]]
    errors: list[tuple[NearMiss, Understanding]]

    def as_dict(self) -> dict:
        return self.per_language


def score_nearmiss(examples: list[NearMiss], results: list[Understanding]) -> NearMissScores:
    counts: dict[str, Counter] = defaultdict(Counter)
    errors = []
    for ex, res in zip(examples, results):
        urgent = res.priority == "urgent"
        asked = bool(res.safety and res.safety.ask)
        for key in (ex.lang, "all"):
            c = counts[key]
            c[ex.label] += 1
            c[f"{ex.label}_urgent"] += urgent
            c[f"{ex.label}_asked"] += asked and not urgent
        if urgent != (ex.label == "danger"):
            errors.append((ex, res))
    per_language = {}
    for key in sorted(counts, key=lambda k: (k == "all", k)):
        c = counts[key]
        per_language[key] = {
            "n_ordinary": c["ordinary"], "false_urgent": c["ordinary_urgent"] / c["ordinary"] if c["ordinary"] else 0.0,
            "asked_ordinary": c["ordinary_asked"],
            "n_danger": c["danger"], "urgent_recall": c["danger_urgent"] / c["danger"] if c["danger"] else 1.0,
            "asked": c["danger_asked"]}
    return NearMissScores(per_language, errors)


def format_nearmiss(name: str, s: NearMissScores) -> str:
    lines = [f"== near-miss {name}",
             f"{'language':9} {'ordinary':>8} {'false urgent':>12} {'asked':>5}   {'danger':>6} {'urgent recall':>13} "
             f"{'only asked':>10}"]
    for lang, m in s.per_language.items():
        lines.append(f"{lang:9} {m['n_ordinary']:8d} {m['false_urgent']:12.1%} {m['asked_ordinary']:5d}   "
                     f"{m['n_danger']:6d} {m['urgent_recall']:13.3f} {m['asked']:10d}")
    return "\n".join(lines)


def evaluate_nearmiss(understander: Understander, sets: dict[str, list[NearMiss]]) -> dict[str, NearMissScores]:
    """Scores per near-miss file and over all of them ("all")."""
    async def run():
        return {name: await understand_all(understander, [e.text for e in examples]) for name, examples in sets.items()}

    results = asyncio.run(run())
    out = {name: score_nearmiss(sets[name], res) for name, res in results.items()}
    if len(sets) > 1:
        out["all"] = score_nearmiss([e for n in sets for e in sets[n]], [r for n in sets for r in results[n]])
    return out


async def understand_all(understander: Understander, texts: list[str], concurrency: int = 8) -> list[Understanding]:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(text: str) -> Understanding:
        async with semaphore:
            return await understander.understand(text)

    return await asyncio.gather(*(one(t) for t in texts))


def confusion_png(confusion: dict[str, Counter], labels: list[str], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = len(labels)
    matrix = [[confusion.get(true, Counter()).get(pred, 0) for pred in labels] for true in labels]
    fig, ax = plt.subplots(figsize=(max(8, size * 0.45), max(7, size * 0.42)))
    rows = [sum(r) or 1 for r in matrix]
    norm = [[v / rows[i] for v in row] for i, row in enumerate(matrix)]
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(size), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(size), labels, fontsize=7)
    for i in range(size):
        for j in range(size):
            if matrix[i][j]:
                ax.text(j, i, str(matrix[i][j]), ha="center", va="center", fontsize=6,
                        color="white" if norm[i][j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("SafeSafar NLU: held-out confusion matrix")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def format_report(name: str, s: Scores) -> str:
    lines = [f"== {name}: {s.n} messages",
             f"intent accuracy {s.accuracy:.3f}   " + "   ".join(f"{lang} {acc:.3f} (n={s.per_language_n[lang]})" for lang, acc in s.per_language.items()),
             f"language identification accuracy {s.language_accuracy:.3f}",
             f"urgent recall on emergencies {s.urgent_recall:.3f}   urgent given to non-emergencies {s.urgent_false_rate:.3%}",
             f"{'intent':22} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>5}"]
    for intent, m in s.per_intent.items():
        lines.append(f"{intent:22} {m['precision']:9.3f} {m['recall']:7.3f} {m['f1']:6.3f} {m['support']:5d}")
    if s.finer:
        lines.append(f"finer intents (the topic they choose): {'precision':>9} {'recall':>7} {'n':>5} {'given':>6}")
        for intent, m in s.finer.items():
            lines.append(f"  {intent:36} {m['precision']:9.3f} {m['recall']:7.3f} {m['n']:5d} {m['given']:6d}")
    return "\n".join(lines)


def evaluate_sets(understander: Understander, sets: dict[str, list[Example]]) -> dict[str, tuple[Scores, list[Understanding]]]:
    """Scores for each set and for all of them together ("all"); each message is classified once."""
    async def run():
        return {name: await understand_all(understander, [e.text for e in examples]) for name, examples in sets.items()}

    results = asyncio.run(run())
    out = {name: (score(sets[name], res), res) for name, res in results.items()}
    every = [e for name in sets for e in sets[name]]
    every_results = [r for name in sets for r in results[name]]
    out["all"] = (score(every, every_results), every_results)
    return out


def run_evaluation(settings: Settings, args) -> int:
    from ..contract import contract
    from ..services import build_understander
    from .server import NLUUnavailable, nlu_server

    files = [Path(f) for f in args.files] or sorted((settings.nlu_project / "heldout").glob("*.tsv"))
    if not files:
        print("error: no held-out files found", file=sys.stderr)
        return 2
    sets = {f.stem: read_tsv(f) for f in files}
    nearmiss_dir = Path(args.nearmiss) if getattr(args, "nearmiss", None) else settings.nlu_project / "nearmiss"
    near_sets = {f.stem: read_nearmiss(f) for f in nearmiss_files(nearmiss_dir)}
    out_dir = Path(args.out)
    try:
        with nlu_server(settings, args.url, log=sys.stderr) as url:
            understander, client = build_understander(settings, url)
            results = evaluate_sets(understander, sets)
            near = evaluate_nearmiss(understander, near_sets) if near_sets else {}
    except NLUUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, (scores, _) in results.items():
        print(format_report(name, scores))
        print()
    for name, near_scores in near.items():
        print(format_nearmiss(name, near_scores))
        print()
    if not near_sets:
        print(f"no near-miss sets in {nearmiss_dir}")
    overall, all_results = results["all"]
    labels = contract().intents + (["none"] if any(r.intent is None for r in all_results) else [])
    out_dir.mkdir(parents=True, exist_ok=True)
    confusion_png(overall.confusion, labels, out_dir / "confusion-matrix.png")
    report = {k: v[0].as_dict() for k, v in results.items()}
    if near:
        report["nearmiss"] = {k: v.as_dict() for k, v in near.items()}
        with (out_dir / "nearmiss-errors.tsv").open("w", encoding="utf-8") as handle:
            handle.write("set\tlang\tlabel\tpriority\tasked\tintent\tp_emergency\tfired\ttext\n")
            for name, near_scores in near.items():
                if name == "all":
                    continue
                for ex, res in near_scores.errors:
                    safety = res.safety
                    handle.write(f"{name}\t{ex.lang}\t{ex.label}\t{res.priority}\t{bool(safety and safety.ask)}\t"
                                 f"{res.intent}\t{safety.probability if safety else 0:.2f}\t"
                                 f"{' | '.join(safety.matched) if safety else ''}\t{ex.text}\n")
    (out_dir / "nlu-report.json").write_text(json.dumps(report, indent=2))
    with (out_dir / "nlu-errors.tsv").open("w", encoding="utf-8") as handle:
        handle.write("lang\ttrue\tpredicted\tconfidence\tpriority\tdetail\ttext\n")
        for ex, res in overall.errors:
            handle.write(f"{ex.lang}\t{ex.intent}\t{res.intent}\t{res.confidence:.2f}\t{res.priority}\t"
                         f"{res.detail or ''}\t{ex.text}\n")
        # finer-intent misses: labelled with a finer intent, not given it (or given one it was not labelled with)
        every = [e for name in sets for e in sets[name]]
        finer = set(contract().finer)
        for ex, res in zip(every, all_results):
            if (ex.intent in finer or res.detail) and res.detail != ex.intent and res.intent == contract().name(ex.intent):
                handle.write(f"{ex.lang}\t{ex.intent}\t{res.intent}\t{res.confidence:.2f}\t{res.priority}\t"
                             f"{res.detail or ''}\t{ex.text}\n")
    print(f"wrote {out_dir / 'confusion-matrix.png'}, {out_dir / 'nlu-report.json'}, {out_dir / 'nlu-errors.tsv'}")
    return 0
