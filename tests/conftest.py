"""Shared fixtures. The Rasa model is trained by `make setup` (cached by a hash of nlu/); tests that
need the server share one started here, once per session, on its own port."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from bot.config import ROOT, Settings

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
def rasa_url(settings):
    from bot.nlu.server import nlu_server
    from bot.nlu.train import model_path

    if not model_path(settings).is_file():
        pytest.fail("no trained NLU model for the current nlu/: run `make setup` (make test does)")
    url = f"http://127.0.0.1:{free_port()}"
    with nlu_server(settings, url) as ready:
        yield ready


@pytest.fixture(scope="session")
def understander(settings, rasa_url):
    from bot.services import build_understander

    understander, _client = build_understander(settings, rasa_url)
    return understander


@pytest.fixture(scope="session")
def heldout():
    from bot.nlu.data import read_tsv

    return {p.stem: read_tsv(p) for p in sorted((ROOT / "nlu" / "heldout").glob("*.tsv"))}


@pytest.fixture(scope="session")
def safesafar_bin() -> Path:
    path = ROOT / ".venv" / "bin" / "safesafar"
    assert path.exists(), "run `make setup` first"
    return path
