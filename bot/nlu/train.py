"""Training the Rasa model, cached by a hash of its inputs.

The model lives at nlu/models/nlu-<hash>.tar.gz, where the hash covers the pipeline, every training
data file, the editors' country list and the pinned NLU environment. `make setup` calls
`safesafar nlu train --if-needed`: when nothing changed it returns at once.

The model served is the one nlu/models/active.json names (written by `nlu train` when it trains, and by
the learning loop's promotion and rollback: bot/nlu/lifecycle.py); without that file, the model of the
current inputs. A retrained model is named nlu-<hash of its inputs>-r<job>.tar.gz.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..config import Settings
from ..language import LanguageIdentifier, LatinModel, training_samples
from .entities import countries_yaml, read_countries


class ModelMissing(RuntimeError):
    pass


def sync_generated(settings: Settings) -> bool:
    """Regenerate nlu/data/entities/countries.yml from the editors' countries.txt. True if it changed."""
    source = settings.nlu_project / "entities" / "countries.txt"
    target = settings.nlu_project / "data" / "entities" / "countries.yml"
    text = countries_yaml(read_countries(source))
    if target.is_file() and target.read_text(encoding="utf-8") == text:
        return False
    target.write_text(text, encoding="utf-8")
    return True


def input_files(settings: Settings) -> list[Path]:
    project = settings.nlu_project
    files = [project / "config.yml", settings.root / "requirements" / "nlu.lock"]
    files += sorted((project / "data").rglob("*.yml"))
    return files


def inputs_hash(settings: Settings) -> str:
    digest = hashlib.sha256()
    for path in input_files(settings):
        digest.update(str(path.relative_to(settings.root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(settings: Settings, digest: str | None = None) -> Path:
    return settings.models_dir / f"nlu-{digest or inputs_hash(settings)}.tar.gz"


def langid_path(settings: Settings, digest: str | None = None) -> Path:
    return settings.models_dir / f"langid-{digest or inputs_hash(settings)}.json"


ACTIVE = "active.json"


def read_active(settings: Settings) -> dict | None:
    """The pointer to the model served ({"model", "langid", "inputs", ...}), when it names a model file
    that exists; else None."""
    try:
        active = json.loads((settings.models_dir / ACTIVE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(active, dict) or not (settings.models_dir / str(active.get("model") or "-")).is_file():
        return None
    return active


def write_active(settings: Settings, record: dict) -> None:
    """Points the served model at record["model"] (atomically), and makes it the newest model file:
    a Rasa server started with the models folder (docker-compose) loads the newest."""
    path = settings.models_dir / ACTIVE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    os.utime(settings.models_dir / record["model"])


def _served(settings: Settings) -> dict | None:
    """The pointer, if it decides: always after a promotion or a rollback; when `nlu train` wrote it,
    only for the inputs it was trained on (worktrees share nlu/models: each branch serves its own data's
    model, as before the pointer)."""
    active = read_active(settings)
    if active is None:
        return None
    if active.get("source") != "train" or active.get("inputs") == inputs_hash(settings):
        return active
    return None if model_path(settings).is_file() else active


def current_model(settings: Settings) -> Path:
    active = _served(settings)
    if active is not None:
        return settings.models_dir / active["model"]
    path = model_path(settings)
    if not path.is_file():
        raise ModelMissing(f"no trained NLU model for the current nlu/ ({path.name}): run `make setup`")
    return path


def current_langid(settings: Settings) -> Path:
    active = _served(settings)
    if active is not None and active.get("langid"):
        return settings.models_dir / active["langid"]
    return langid_path(settings)


def load_language_identifier(settings: Settings, path: Path | None = None) -> LanguageIdentifier:
    path = path or current_langid(settings)
    if path.is_file():
        return LanguageIdentifier(LatinModel.from_json(path.read_text(encoding="utf-8")))
    return LanguageIdentifier.from_training_data(settings.nlu_project / "data")


class ActiveLanguageIdentifier:
    """The language identifier of the model served, reloaded when a promotion or a rollback moves the
    pointer (checked at most every `every` seconds): a running bot follows the model it talks to."""

    def __init__(self, settings: Settings, every: float = 5.0):
        self.settings, self.every = settings, every
        self._stamp = self._pointer_stamp()
        self._checked = time.monotonic()
        self._current = load_language_identifier(settings)

    def _pointer_stamp(self):
        try:
            stat = (self.settings.models_dir / ACTIVE).stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def identify(self, text: str, default: str = "en") -> str:
        now = time.monotonic()
        if now - self._checked >= self.every:
            self._checked = now
            stamp = self._pointer_stamp()
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    self._current = load_language_identifier(self.settings)
                except (OSError, ValueError):  # a half-written file: the next check tries again
                    self._stamp = None
        return self._current.identify(text, default=default)


def train(settings: Settings, if_needed: bool = True, out=sys.stderr) -> Path:
    sync_generated(settings)
    digest = inputs_hash(settings)
    target = model_path(settings, digest)
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    lang_target = langid_path(settings, digest)
    if not lang_target.is_file():
        model = LatinModel.train(training_samples(settings.nlu_project / "data"))
        lang_target.write_text(model.to_json(), encoding="utf-8")
    active = read_active(settings)
    if if_needed and active is not None and active.get("inputs") == digest:
        print(f"NLU model up to date ({active['model']})", file=out)
        return settings.models_dir / active["model"]
    if if_needed and active is not None and active.get("source") in ("promote", "rollback"):
        # the learning loop serves a tested model: no untested training behind its back
        print(f"NLU model {active['model']} served (promoted or rolled back in the learning loop); nlu/ changed "
              f"since: `safesafar nlu retrain` tests a new one, `safesafar nlu train --force` trains one untested",
              file=out)
        return settings.models_dir / active["model"]
    if if_needed and target.is_file():  # (no pointer yet, or the inputs changed under it: another branch)
        _point_at(settings, target, lang_target, digest)
        print(f"NLU model up to date ({target.name})", file=out)
        return target
    print(f"Training the NLU model ({target.name}); about 5 minutes on 2 idle cores, more when busy ...", file=out, flush=True)
    started = time.monotonic()

    def progress(stage: str, fraction: float | None) -> None:
        if fraction is not None:
            print(f"\r  training: {fraction * 100:.0f}%", end="", file=out, flush=True)

    run_rasa_train(settings, settings.nlu_project, target, progress)
    print("", file=out)
    print(f"NLU model trained in {time.monotonic() - started:.0f} s: {target}", file=out)
    _point_at(settings, target, lang_target, digest)
    _prune(settings, keep={target.name, lang_target.name})
    return target


def _point_at(settings: Settings, model: Path, langid: Path, digest: str) -> None:
    """`nlu train` serves what it trained (or found): the pointer, with what it was trained on (the
    learning loop finetunes only when just examples changed since)."""
    from .lifecycle import describe

    write_active(settings, {"model": model.name, "langid": langid.name, "inputs": digest,
                            "data": describe(settings), "source": "train"})


def run_rasa_train(settings: Settings, project: Path, target: Path, progress=None, finetune: Path | None = None,
                   epoch_fraction: float | None = None, log_path: Path | None = None,
                   on_start=None) -> None:
    """`rasa train nlu` of project/config.yml and project/data into `target` (written atomically), in the
    NLU environment, with a fresh cache. finetune: the model to continue from (`--finetune`, with
    `--epoch-fraction`). progress(stage, fraction): the epoch bar as it moves. on_start(pid)."""
    rasa = settings.nlu_venv / "bin" / "rasa"
    if not rasa.exists():
        raise ModelMissing(f"{rasa} not found: run `make setup` to create the NLU environment")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="safesafar-train-") as work:
        env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", RASA_MAX_CACHE_SIZE="0",
                   RASA_CACHE_DIRECTORY=str(Path(work) / "cache"), TF_CPP_MIN_LOG_LEVEL="2")
        name = target.name.removesuffix(".tar.gz")
        cmd = [str(rasa), "train", "nlu", "--config", str(project / "config.yml"),
               "--nlu", str(project / "data"), "--out", work, "--fixed-model-name", name]
        if finetune is not None:
            cmd += ["--finetune", str(finetune)]
            if epoch_fraction is not None:
                cmd += ["--epoch-fraction", f"{epoch_fraction:g}"]
        log_path = log_path or settings.models_dir / "train.log"
        with log_path.open("w", encoding="utf-8") as log:
            proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if on_start is not None:
                on_start(proc.pid)
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                # progress: the epoch bar and the final lines, not TensorFlow's warnings
                if progress is not None and "Epochs:" in line and "%" in line:
                    try:
                        fraction = float(line.split("Epochs:")[1].split("%")[0].strip()) / 100
                    except ValueError:
                        continue
                    progress("training", fraction)
            code = proc.wait()
        built = Path(work) / target.name
        if code != 0 or not built.is_file():
            raise RuntimeError(f"rasa train failed (exit {code}); see {log_path}")
        tmp = target.with_suffix(".partial")
        built.replace(tmp) if built.stat().st_dev == tmp.parent.stat().st_dev else tmp.write_bytes(built.read_bytes())
        tmp.replace(target)


def _prune(settings: Settings, keep: set[str], max_old: int = 2) -> None:
    """Keep the current model and the last few others (switching branches back and forth stays fast).
    The learning loop's models (nlu-<hash>-r<job>) are kept by bot/nlu/lifecycle.py, not here."""
    active = read_active(settings) or {}
    keep = keep | {str(active.get("model")), str(active.get("langid"))}
    for pattern in ("nlu-*.tar.gz", "langid-*.json"):
        old = sorted((p for p in settings.models_dir.glob(pattern) if p.name not in keep and "-r" not in p.name),
                     key=lambda p: p.stat().st_mtime, reverse=True)
        for path in old[max_old:]:
            path.unlink(missing_ok=True)
