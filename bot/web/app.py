"""The staff console app (Starlette + Jinja2, server-rendered; a little plain JavaScript polls for news):
create_app puts together the framework (framework.py: routes and their policy, the request pipeline, the
security headers) and the routes by area: auth_routes.py (login, logout, language), case_routes.py (the
queue, a case, its actions), admin_routes.py (audit log, canned replies, staff accounts) and
register_routes.py (the OEP register's import pages).
"""
from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ..config import Settings
from . import (admin_routes, auth_routes, case_routes, desk_routes, i18n, register_routes, shift_routes,  # noqa: F401
               store, workbench_routes)  # (their @route)
from . import learning_routes  # noqa: F401 - its @route (the learning inbox, issue 20)
from . import model_routes  # noqa: F401 - its @route (NLU models: retrain, promote)
from .auth import Passwords, password_hasher
from .framework import (_ROUTES, HERE, POLL_SECONDS, Clock, Console, ConsoleApp, _endpoint, allowed_hosts,
                        utcnow)
from .limits import BodyLimit


def create_app(config: Settings | str | None = None, *, clock: Clock | None = None, secret: str | None = None,
               fast_hashing: bool = False, locales_dir: Path | None = None,
               idle_timeout: timedelta | None = None, seed: bool = True,
               poll_seconds: float = POLL_SECONDS, engine=None, case_text=None,
               retrain_launcher=None) -> Starlette:
    """The console for `config` (Settings, or a database URL with the other settings from the environment).
    clock: injectable for tests; secret: signs sessions (default settings.console_secret, else random per
    start); fast_hashing: cheap argon2 parameters, for tests only; poll_seconds: how often pages look for news;
    engine: the database (default: one for settings.database_url; services.build_console passes a migrated
    one); case_text: how staff replies look (hotline.cases.CaseText; default: Telegram HTML);
    retrain_launcher(settings, job_id, mode) -> pid: starts a retraining job (default: its own process)."""
    if config is None:
        settings = Settings.from_env()
    elif isinstance(config, str):
        from dataclasses import replace

        settings = replace(Settings.from_env(), database_url=config)
    else:
        settings = config
    secret = secret or settings.console_secret or secrets.token_urlsafe(32)
    console = Console(settings, clock or utcnow, secret, Passwords(password_hasher(fast_hashing)),
                      locales_dir or i18n.LOCALES, idle_timeout, engine=engine,
                      case_text=case_text or store.CASE_TEXT)
    console.env.globals["POLL_SECONDS"] = poll_seconds
    if retrain_launcher is None:
        from ..nlu.lifecycle import spawn_job as retrain_launcher
    console.retrain_launcher = retrain_launcher
    console.env.globals.update(shift_routes.TEMPLATE_GLOBALS)
    console.env.globals.update(workbench_routes.TEMPLATE_GLOBALS)
    console.env.globals.update(learning_routes.TEMPLATE_GLOBALS)
    console.env.globals.update(shift_routes.words_globals(settings.content_dir))
    console.env.globals.update(desk_routes.TEMPLATE_GLOBALS)
    # times in the person's zone (Settings), else the console's (CONSOLE_TIMEZONE)
    console.env.filters["when"] = desk_routes.when_filter(settings.console_timezone)
    if seed:
        store.seed_canned_replies(console.engine, console.clock())
    routes = [Route(path, _endpoint(fn, policy), methods=list(methods), name=fn.__name__)
              for path, methods, fn, policy in _ROUTES]
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app):
        yield
        console.engine.dispose()

    app = ConsoleApp(routes=routes, lifespan=lifespan, exception_handlers={404: shift_routes.not_found})
    # (the last added runs first) the proxy's client address, then the Host, then the body's size
    app.add_middleware(BodyLimit)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(settings), www_redirect=False)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.console_trusted_proxies))
    app.state.console = console
    return app
