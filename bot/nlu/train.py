"""Training the Rasa model, cached by a hash of its inputs.

The model lives at nlu/models/nlu-<hash>.tar.gz, where the hash covers the pipeline, every training
data file, the editors' country list and the pinned NLU environment. `make setup` calls
`safesafar nlu train --if-needed`: when nothing changed it returns at once.
"""
from __future__ import annotations

import hashlib
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


def current_model(settings: Settings) -> Path:
    path = model_path(settings)
    if not path.is_file():
        raise ModelMissing(f"no trained NLU model for the current nlu/ ({path.name}): run `make setup`")
    return path


def load_language_identifier(settings: Settings) -> LanguageIdentifier:
    path = langid_path(settings)
    if path.is_file():
        return LanguageIdentifier(LatinModel.from_json(path.read_text(encoding="utf-8")))
    return LanguageIdentifier.from_training_data(settings.nlu_project / "data")


def train(settings: Settings, if_needed: bool = True, out=sys.stderr) -> Path:
    sync_generated(settings)
    digest = inputs_hash(settings)
    target = model_path(settings, digest)
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    lang_target = langid_path(settings, digest)
    if not lang_target.is_file():
        model = LatinModel.train(training_samples(settings.nlu_project / "data"))
        lang_target.write_text(model.to_json(), encoding="utf-8")
    if if_needed and target.is_file():
        print(f"NLU model up to date ({target.name})", file=out)
        return target
    rasa = settings.nlu_venv / "bin" / "rasa"
    if not rasa.exists():
        raise ModelMissing(f"{rasa} not found: run `make setup` to create the NLU environment")
    print(f"Training the NLU model ({target.name}); about 5 minutes on 2 idle cores, more when busy ...", file=out, flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="safesafar-train-") as work:
        env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", RASA_MAX_CACHE_SIZE="0",
                   RASA_CACHE_DIRECTORY=str(Path(work) / "cache"), TF_CPP_MIN_LOG_LEVEL="2")
        cmd = [str(rasa), "train", "nlu", "--config", str(settings.nlu_project / "config.yml"),
               "--nlu", str(settings.nlu_project / "data"), "--out", work, "--fixed-model-name", target.name[:-7]]
        log_path = settings.models_dir / "train.log"
        with log_path.open("w", encoding="utf-8") as log:
            proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                # progress: the epoch bar and the final lines, not TensorFlow's warnings
                if "Epochs:" in line and "%" in line:
                    pct = line.split("Epochs:")[1].split("%")[0].strip()
                    print(f"\r  training: {pct}%", end="", file=out, flush=True)
            code = proc.wait()
        print("", file=out)
        built = Path(work) / target.name
        if code != 0 or not built.is_file():
            raise RuntimeError(f"rasa train failed (exit {code}); see {log_path}")
        tmp = target.with_suffix(".partial")
        built.replace(tmp) if built.stat().st_dev == tmp.parent.stat().st_dev else tmp.write_bytes(built.read_bytes())
        tmp.replace(target)
    print(f"NLU model trained in {time.monotonic() - started:.0f} s: {target}", file=out)
    _prune(settings, keep={target.name, lang_target.name})
    return target


def _prune(settings: Settings, keep: set[str], max_old: int = 2) -> None:
    """Keep the current model and the last few others (switching branches back and forth stays fast)."""
    for pattern in ("nlu-*.tar.gz", "langid-*.json"):
        old = sorted((p for p in settings.models_dir.glob(pattern) if p.name not in keep),
                     key=lambda p: p.stat().st_mtime, reverse=True)
        for path in old[max_old:]:
            path.unlink(missing_ok=True)
