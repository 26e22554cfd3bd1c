"""Runs the staff console with uvicorn on settings.console_host:console_port."""
from __future__ import annotations

import sys

from ..config import Settings
from ..processes import console_claim, console_config


def serve(settings: Settings, log_level: str = "info") -> None:
    import uvicorn

    from ..services import build_console

    if not settings.console_secret:
        print("note: CONSOLE_SECRET is not set: sessions are signed with a random key and end when the console "
              "restarts", file=sys.stderr)
    if settings.console_host not in ("127.0.0.1", "localhost", "::1") and not settings.console_url.startswith("https://"):
        print("warning: the console listens beyond this machine but CONSOLE_URL is not https: put it behind a TLS "
              "reverse proxy and set CONSOLE_URL=https://...", file=sys.stderr)
    app = build_console(settings)
    # which database this console serves (hashed), for a `safesafar run` that finds the port taken
    claim = console_claim(settings)
    if claim.read() is None:
        claim.write(console_config(settings))
    try:
        # proxy headers are read by the app itself, from CONSOLE_TRUSTED_PROXIES only (uvicorn's own
        # middleware would trust 127.0.0.1, i.e. anyone who can connect locally)
        uvicorn.run(app, host=settings.console_host, port=settings.console_port, log_level=log_level,
                    proxy_headers=False, server_header=False)
    finally:
        claim.remove()
