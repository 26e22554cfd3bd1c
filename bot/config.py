"""Settings from the environment (and a `.env` file in the project root), with sensible local defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def _env(name: str, default: str, dotenv: dict[str, str]) -> str:
    return os.environ.get(name) or dotenv.get(name) or default


def parse_networks(value: str, name: str) -> tuple[str, ...]:
    """Addresses or networks (CIDR), separated by commas or spaces, checked and written canonically."""
    import ipaddress

    out = []
    for item in value.replace(",", " ").split():
        try:
            out.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ValueError(f"{name}: {item!r} is not an IP address or network (CIDR)") from None
    return tuple(out)


@dataclass(frozen=True)
class Settings:
    root: Path = ROOT
    nlu_url: str = "http://127.0.0.1:5005"
    nlu_autostart: bool = True
    nlu_timeout: float = 10.0
    nlu_concurrency: int = 0  # NLU requests out at once (0: one per Rasa worker); texts arriving meanwhile go together
    # texts per NLU request at most: small batches keep the bursts of turns that one answer wakes short
    nlu_max_batch: int = 4
    nlu_workers: int = 1  # Sanic workers of a locally started Rasa server (each holds the model: ~0.9 GB)
    # every running Rasa server a promotion must reach (empty: NLU_URL alone), and the models folder as
    # they see it (empty: models_dir; docker-compose mounts it at /app/models)
    nlu_replicas: tuple[str, ...] = ()
    nlu_replica_models_dir: str = ""
    nlu_venv: Path = ROOT / ".venv-nlu"
    nlu_project: Path = ROOT / "nlu"
    models_dir: Path = ROOT / "nlu" / "models"
    nlu_data_dir: Path = ROOT / "nlu" / "data"  # the training data the learning inbox applies examples to
    content_dir: Path = ROOT / "content"
    # where the bot's answers come from: "database" (the published revisions of the editors' workbench,
    # seeded from content/), "files" (content/, reloaded when a file changes), "auto": the Telegram bot
    # the database, the terminal chat the files
    content_source: str = "auto"
    contract_path: Path = ROOT / "nlu" / "contract" / "intents.yml"
    danger_lexicon: Path = ROOT / "content" / "safety" / "danger_lexicon.yml"
    # the danger net's own urgency model (bot/urgency.py): on by default; off, the net uses the intent
    # classifier's p(emergency). Trained from nlu_data_dir and these folders of labelled TSV, kept in the cache.
    urgency_model: bool = True
    urgency_examples: tuple[Path, ...] = (ROOT / "nlu" / "urgency", ROOT / "nlu" / "nearmiss-dev", ROOT / "nlu" / "nearmiss-aside")
    urgency_cache_dir: Path = ROOT / "var" / "urgency"
    telegram_token: str = ""
    database_url: str = "sqlite:///" + str(ROOT / "var" / "safesafar.db")
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str = ""  # set: webhook mode (behind a reverse proxy); empty: long polling
    telegram_webhook_secret: str = ""
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = 8443
    telegram_max_rate: float = 30.0  # messages per second to all chats (Telegram's broadcast limit)
    user_rate_per_minute: float = 30.0  # messages one user may send per minute (after a burst) before a warning
    user_burst: int = 15
    staff_chat_id: str = ""  # the Telegram staff group that gets an alert for every urgent or high case
    console_url: str = "http://127.0.0.1:8080"  # the staff console, for links in alerts
    console_host: str = "127.0.0.1"
    console_port: int = 8080
    console_secret: str = ""  # signs console sessions; empty: a random key per start (sessions end on restart)
    # reverse proxies whose X-Forwarded-For / X-Forwarded-Proto the console believes (addresses or CIDRs);
    # empty: none, the peer's address is the client's
    console_trusted_proxies: tuple[str, ...] = ()
    console_timezone: str = "Asia/Karachi"  # the console shows times in this zone (IANA name)
    retention_days: int = 180  # messages of conversations without an open case are purged after this
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "Settings":
        dotenv = _load_dotenv(ROOT / ".env")
        return cls(
            nlu_url=_env("NLU_URL", cls.nlu_url, dotenv).rstrip("/"),
            nlu_autostart=_env("NLU_AUTOSTART", "true", dotenv).lower() not in ("0", "false", "no"),
            nlu_timeout=float(_env("NLU_TIMEOUT", str(cls.nlu_timeout), dotenv)),
            nlu_concurrency=int(_env("NLU_CONCURRENCY", str(cls.nlu_concurrency), dotenv)),
            nlu_workers=int(_env("NLU_WORKERS", str(cls.nlu_workers), dotenv)),
            nlu_max_batch=max(1, int(_env("NLU_MAX_BATCH", str(cls.nlu_max_batch), dotenv))),
            models_dir=Path(_env("NLU_MODELS_DIR", str(cls.models_dir), dotenv)),
            nlu_replicas=tuple(u.strip().rstrip("/") for u in _env("NLU_REPLICAS", "", dotenv).replace(",", " ").split()),
            nlu_replica_models_dir=_env("NLU_REPLICA_MODELS_DIR", "", dotenv),
            content_dir=Path(_env("CONTENT_DIR", str(cls.content_dir), dotenv)),
            content_source=_env("CONTENT_SOURCE", cls.content_source, dotenv).lower(),
            nlu_data_dir=Path(_env("NLU_DATA_DIR", str(cls.nlu_data_dir), dotenv)),
            danger_lexicon=Path(_env("DANGER_LEXICON", str(cls.danger_lexicon), dotenv)),
            urgency_model=_env("URGENCY_MODEL", "on", dotenv).lower() not in ("0", "false", "no", "off"),
            urgency_cache_dir=Path(_env("URGENCY_CACHE_DIR", str(cls.urgency_cache_dir), dotenv)),
            telegram_token=_env("TELEGRAM_BOT_TOKEN", "", dotenv),
            database_url=_env("DATABASE_URL", cls.database_url, dotenv),
            telegram_api_base_url=_env("TELEGRAM_API_BASE_URL", cls.telegram_api_base_url, dotenv),
            telegram_webhook_url=_env("TELEGRAM_WEBHOOK_URL", "", dotenv),
            telegram_webhook_secret=_env("TELEGRAM_WEBHOOK_SECRET", "", dotenv),
            telegram_webhook_listen=_env("TELEGRAM_WEBHOOK_LISTEN", cls.telegram_webhook_listen, dotenv),
            telegram_webhook_port=int(_env("TELEGRAM_WEBHOOK_PORT", str(cls.telegram_webhook_port), dotenv)),
            telegram_max_rate=float(_env("TELEGRAM_MAX_RATE", str(cls.telegram_max_rate), dotenv)),
            user_rate_per_minute=float(_env("USER_RATE_PER_MINUTE", str(cls.user_rate_per_minute), dotenv)),
            user_burst=int(_env("USER_BURST", str(cls.user_burst), dotenv)),
            staff_chat_id=_env("STAFF_CHAT_ID", "", dotenv),
            console_url=_env("CONSOLE_URL", cls.console_url, dotenv).rstrip("/"),
            console_host=_env("CONSOLE_HOST", cls.console_host, dotenv),
            console_port=int(_env("CONSOLE_PORT", str(cls.console_port), dotenv)),
            console_secret=_env("CONSOLE_SECRET", "", dotenv),
            console_trusted_proxies=parse_networks(_env("CONSOLE_TRUSTED_PROXIES", "", dotenv),
                                                   "CONSOLE_TRUSTED_PROXIES"),
            console_timezone=_env("CONSOLE_TIMEZONE", cls.console_timezone, dotenv),
            retention_days=int(_env("RETENTION_DAYS", str(cls.retention_days), dotenv)),
        )
