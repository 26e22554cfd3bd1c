"""The `safesafar` command."""
from __future__ import annotations

import argparse
import asyncio
import os
import sys

from .config import Settings


def _classify(args, settings: Settings) -> int:
    from .classify import classify_stream
    from .nlu.server import NLUUnavailable, nlu_server
    from .nlu.train import ModelMissing
    from .services import build_understander

    async def main(url: str) -> int:
        understander, client = build_understander(settings, url)
        try:
            return await classify_stream(understander, sys.stdin.buffer, sys.stdout, sys.stderr, args.concurrency)
        finally:
            await client.aclose()

    try:
        with nlu_server(settings, args.url, log=sys.stderr) as url:
            asyncio.run(main(url))
    except (NLUUnavailable, ModelMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the NLU failing mid-stream: say so, exit non-zero
        print(f"error: classification failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def _train(args, settings: Settings) -> int:
    from .nlu.train import train

    try:
        train(settings, if_needed=not args.force)
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _retrain(args, settings: Settings) -> int:
    """`safesafar nlu retrain`: a candidate model (finetuned when only examples changed), the gate's
    report, and with --promote the promotion when it passed. --job N runs a job the console queued."""
    from .nlu import lifecycle
    from .services import build_database
    from .storage import model_store as ms

    engine = build_database(settings)
    try:
        if args.job is None:
            lifecycle.fail_stale(settings, engine)
            try:
                job_id = ms.create_job(engine, "cli:" + (os.environ.get("USER") or "unknown"), args.mode)
            except ms.JobRunning as exc:
                print(f"error: {exc}: one at a time", file=sys.stderr)
                return 1
        else:
            job_id = args.job
        try:
            row = lifecycle.run_job(settings, engine, job_id, mode=args.mode, epoch_fraction=args.epoch_fraction,
                                    out=sys.stderr)
        except Exception as exc:
            print(f"error: retraining #{job_id} failed: {exc}", file=sys.stderr)
            return 1
        print(lifecycle.format_report(row["report"]))
        print(f"candidate #{job_id} ({row['mode']}, trained in {row['train_seconds']:.0f} s): "
              f"{'passed the gate' if row['status'] == 'passed' else 'REFUSED by the gate'}")
        if row["status"] != "passed":
            return 3
        if args.promote:
            result = lifecycle.promote(settings, engine, job_id, "cli:" + (os.environ.get("USER") or "unknown"))
            print(f"promoted: {result['model']} on {', '.join(result['replicas'])}")
        else:
            print(f"promote it with: safesafar nlu promote {job_id}")
        return 0
    finally:
        engine.dispose()


def _promote(args, settings: Settings) -> int:
    from .nlu import lifecycle
    from .services import build_database

    engine = build_database(settings)
    actor = "cli:" + (os.environ.get("USER") or "unknown")
    try:
        if args.nlu_command == "rollback":
            result = lifecycle.rollback(settings, engine, actor)
            print(f"rolled back: serving {result['model']} again (was {result['from']}) on "
                  f"{', '.join(result['replicas'])}")
        else:
            result = lifecycle.promote(settings, engine, args.model_id, actor)
            print(f"promoted: {result['model']} on {', '.join(result['replicas'])}")
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def _models(args, settings: Settings) -> int:
    from .services import build_database
    from .storage import model_store as ms

    engine = build_database(settings)
    try:
        with engine.connect() as conn:
            rows = ms.history(conn, limit=args.last)
    finally:
        engine.dispose()
    for row in rows:
        s = row["scores"] or {}
        near = (s.get("nearmiss") or {}).get("all") or {}
        acc = f"{s['intent_accuracy']:.3f}" if "intent_accuracy" in s else "-"
        recall = f"{s['urgent_recall']:.3f}" if "urgent_recall" in s else "-"
        near_recall = f"{near['urgent_recall']:.3f}" if "urgent_recall" in near else "-"
        examples = " ".join(f"{k} {v}" for k, v in (row["data"] or {}).get("examples", {}).items())
        print(f"#{row['id']:<4} {row['status']:11} {row['mode']:8} {row['created_at']:%Y-%m-%d %H:%M}  accuracy {acc}  "
              f"urgent recall {recall} (near-miss {near_recall})  {examples}  {row['model_file'] or ''}")
    return 0


def _evaluate(args, settings: Settings) -> int:
    from .nlu.evaluate import run_evaluation

    return run_evaluation(settings, args)


def _serve(args, settings: Settings) -> int:
    from .nlu.server import RasaProcess
    from .nlu.train import current_model

    process = RasaProcess(settings, current_model(settings), args.url or settings.nlu_url)
    process.start()
    try:
        process.wait_ready()
        print(f"NLU server ready at {args.url or settings.nlu_url} (Ctrl-C stops it)", file=sys.stderr)
        assert process.proc is not None
        process.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        process.stop()
    return 0


def _content_check(args, settings: Settings) -> int:
    from .contract import contract
    from .dialogue.content_check import check

    if args.stats:
        from .dialogue.content_check import word_stats

        print(word_stats(settings.content_dir))
    report = check(settings.content_dir, contract(), settings.root / "locales")
    print(report.format())
    return 1 if report.errors else 0


def _content_export(args, settings: Settings) -> int:
    """`safesafar content export [DIR]`: the published state in content/'s layout (byte-stable)."""
    from pathlib import Path

    from .editorial.exchange import export
    from .services import build_database, build_workbench

    engine = build_database(settings)
    try:
        target = Path(args.dir) if args.dir else settings.content_dir
        written = export(build_workbench(settings, engine), target, Path(args.countries) if args.countries else None,
                         version="published")
    finally:
        engine.dispose()
    print(f"exported {len(written)} files to {target}" + (f" (countries: {args.countries})" if args.countries else ""))
    return 0


def _content_import(args, settings: Settings) -> int:
    """`safesafar content import PATH... --author NAME`: files as drafts, for review in the workbench."""
    from pathlib import Path

    from .editorial.exchange import ImportError_, read_paths
    from .editorial.model import Actor, EditorialError
    from .services import build_database, build_workbench

    try:
        documents, countries = read_paths([Path(p) for p in args.paths])
    except ImportError_ as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    engine = build_database(settings)
    try:
        role = _staff_role(engine, args.author) or "editor"
        saved = build_workbench(settings, engine).import_documents(
            Actor(args.author, role), documents, countries, note=args.note or f"imported by {args.author}")
    except EditorialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    for result in saved:
        flag = f"  ({len(result.issues)} errors)" if result.issues else ""
        print(f"draft {result.item.kind} {result.item.key} version {result.revision.version}{flag}")
        for issue in result.issues[:5]:
            print(f"    - {issue.message}")
    print(f"{len(saved)} drafts from {len(documents) + (countries is not None)} files (unchanged items skipped)")
    return 0


def _staff_role(engine, username: str) -> str | None:
    from sqlalchemy import select

    from .storage.db import StaffRow

    with engine.connect() as conn:
        return conn.execute(select(StaffRow.role).where(StaffRow.username == username)).scalar()


def _run(args, settings: Settings) -> int:
    """The assistant, with the staff console beside it (its own process, stopped on exit) unless
    --no-staff-console, CONSOLE_AUTOSTART=false, or something already listens on the console's port."""
    console = None if args.no_staff_console else _start_staff_console(settings)
    try:
        if settings.telegram_token and not args.console:
            from .telegram.run import run_telegram

            return run_telegram(settings)
        from .console import run_console

        return run_console(settings)
    finally:
        if console is not None:
            console.terminate()
            try:
                console.wait(10)
            except Exception:
                console.kill()


def _start_staff_console(settings: Settings):
    """The staff console in a process of its own that ends with this one (even killed). When something
    already listens on its port: a console started by a `safesafar run` with the same database is reused
    (said so); anything else is reported, and no second console starts."""
    import socket
    import subprocess

    from .processes import console_claim, console_config, die_with_parent

    if os.environ.get("CONSOLE_AUTOSTART", "true").lower() in ("0", "false", "no"):
        return None
    with socket.socket() as probe:
        taken = probe.connect_ex((settings.console_host, settings.console_port)) == 0
    if taken:
        claim = console_claim(settings).read()
        where = f"{settings.console_host}:{settings.console_port}"
        if claim is None:
            print(f"warning: something already listens on {where} (not a staff console this command "
                  "started): the staff console is not started", file=sys.stderr)
        elif claim.get("config") == console_config(settings):
            print(f"staff console: reusing the one already running at {settings.console_url} "
                  f"(pid {claim['pid']}, same database)", file=sys.stderr)
        else:
            print(f"warning: the staff console already running on {where} (pid {claim['pid']}) serves "
                  f"another database (DATABASE_URL differs): it is not this run's console; stop it "
                  f"(kill {claim['pid']}) and run again", file=sys.stderr)
        return None
    log_path = settings.root / "var" / "console.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "console"], cwd=settings.root,
                               stdout=open(log_path, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
                               preexec_fn=die_with_parent())
    print(f"staff console: {settings.console_url} (log: {log_path})", file=sys.stderr)
    return process


def _db_upgrade(args, settings: Settings) -> int:
    from .storage.migrate import current, head, upgrade
    from .storage.db import make_engine

    upgrade(settings.database_url, revision=args.revision)
    engine = make_engine(settings.database_url)
    print(f"database at revision {current(engine)} (newest {head(settings.database_url)}): {_safe_url(settings.database_url)}")
    if current(engine) == head(settings.database_url):
        from .services import seed_content

        added = seed_content(settings, engine)
        print(f"content: {added} items seeded from {settings.content_dir}" if added else
              "content: the database has every item of content/ (nothing seeded)")
    engine.dispose()
    return 0


def _db_purge(args, settings: Settings) -> int:
    from .storage.retention import purge

    days = args.days if args.days is not None else settings.retention_days
    counts = purge(settings.database_url, days=days, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} (older than {days} days, cases still open kept): " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


def _health(args, settings: Settings) -> int:
    """For container health checks: the database answers and is at the newest migration; the NLU answers."""
    import httpx

    from .storage.db import make_engine
    from .storage.migrate import current, head

    problems = []
    try:
        engine = make_engine(settings.database_url)
        if current(engine) != head(settings.database_url):
            problems.append("database not at the newest migration (run `safesafar db upgrade`)")
        engine.dispose()
    except Exception as exc:
        problems.append(f"database: {type(exc).__name__}")
    try:
        httpx.get(settings.nlu_url + "/status", timeout=5).raise_for_status()
    except Exception as exc:
        problems.append(f"NLU at {settings.nlu_url}: {type(exc).__name__}")
    for problem in problems:
        print(f"unhealthy: {problem}", file=sys.stderr)
    if not problems:
        print("ok")
    return 1 if problems else 0


def _register_import(args, settings: Settings) -> int:
    """`safesafar register import FILE...`: reads saved pages of BE&OE's list of OEPs (HTML), CSV files with
    the same columns and notices (CSV: title, date, body); shows what changes since the last import and
    applies it all, or nothing, once confirmed."""
    from datetime import date
    from pathlib import Path

    from .register.diff import render
    from .register.parse import parse_files
    from .services import build_database
    from .storage.register_store import ImportRefused, apply, discard, stage

    try:
        register_date = date.fromisoformat(args.date) if args.date else date.today()
    except ValueError:
        print(f"error: --date {args.date!r} is not a date like 2026-12-05", file=sys.stderr)
        return 2
    files = []
    for name in args.files:
        try:
            files.append((name, Path(name).read_bytes()))
        except OSError as exc:
            print(f"error: {name}: {exc.strerror}", file=sys.stderr)
            return 2
    parsed = parse_files(files)
    if parsed.errors:
        print(render(None, [], parsed.errors), file=sys.stderr)
        return 1
    engine = build_database(settings)
    try:
        actor = "cli:" + (os.environ.get("USER") or "unknown")
        try:
            staged = stage(engine, parsed, register_date, actor)
        except ImportRefused as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"Import {staged.import_id}: {len(parsed.agencies)} agencies, {len(parsed.notices)} notices, "
              f"register of {register_date.isoformat()} (files: {', '.join(parsed.files)})")
        print(render(staged.diff, staged.links, []))
        accept: set[int] = set()
        if not args.yes:
            if input("Apply this import? [y/N] ").strip().lower() not in ("y", "yes"):
                discard(engine, staged.import_id, actor)
                print("Nothing imported.")
                return 1
            from .storage.register_store import pending_links

            with engine.connect() as conn:
                for row in pending_links(conn, staged.import_id):
                    if row["candidate"] and input(f"Link the notice {row['title']!r} to {row['candidate']}? [y/N] "
                                                  ).strip().lower() in ("y", "yes"):
                        accept.add(row["id"])
        try:
            detail = apply(engine, staged.import_id, actor, accept_names=accept)
        except ImportRefused as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"Imported: the register is now the snapshot of import {staged.import_id} "
              f"({detail.get('notices_linked', 0)} notices linked).")
        return 0
    finally:
        engine.dispose()


def _register_status(args, settings: Settings) -> int:
    """`safesafar register status`: the register the bot checks and the latest imports."""
    from .storage.db import make_engine
    from .storage.register_store import current_import, history

    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            current, imports = current_import(conn), history(conn, limit=args.last)
    finally:
        engine.dispose()
    applied = next((i for i in imports if i["id"] == current), None)
    if applied is None:
        print("The register is empty: the bot cannot check agencies and points to the BE&OE website.")
    else:
        print(f"The bot checks against import {applied['id']}: {applied['agencies']} agencies, register of "
              f"{applied['register_date'] or 'unknown date'} ({', '.join(applied['files'] or [])}).")
    for row in imports:
        c = row["counts"] or {}
        print(f"  #{row['id']} {row['status']:9} register of {row['register_date'] or '-':10} agencies {row['agencies']:5} "
              f"new {c.get('new', 0)} gone {c.get('gone', 0)} status {c.get('status', 0)} expiry {c.get('expiry', 0)} "
              f"notices {c.get('notices', 0)}  by {row['decided_by'] or row['created_by']}")
    return 0


def _safe_url(url: str) -> str:
    """A database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    parser = argparse.ArgumentParser(prog="safesafar", description="SafeSafar: safe-migration awareness assistant")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("classify", help="classify messages from stdin (one per line) as JSON lines")
    p.add_argument("--url", help="NLU server URL (default: NLU_URL, started locally if none answers)")
    p.add_argument("--concurrency", type=int, default=8, help="messages in flight at once (default 8)")
    p.set_defaults(func=_classify)

    p = sub.add_parser("run", help="run the assistant: the Telegram bot with TELEGRAM_BOT_TOKEN, else a local chat")
    p.add_argument("--console", action="store_true", help="the local chat in the terminal even with a token")
    p.add_argument("--no-staff-console", action="store_true", help="do not start the staff console beside the bot")
    p.set_defaults(func=_run)

    content = sub.add_parser("content", help="the answers editors keep").add_subparsers(dest="content_command", required=True)
    p = content.add_parser("check", help="validate content/: schema, every intent in every language, buttons, sources, review dates")
    p.add_argument("--stats", action="store_true", help="first print the words of every first message per language")
    p.set_defaults(func=_content_check)
    p = content.add_parser("export", help="write the published content (database) in content/'s layout, byte-stable")
    p.add_argument("dir", nargs="?", help="the folder (default: CONTENT_DIR, content/)")
    p.add_argument("--countries", help="also write the published country list to this file "
                                       "(nlu/entities/countries.txt: then `safesafar nlu train`)")
    p.set_defaults(func=_content_export)
    p = content.add_parser("import", help="load content files (or a content folder) into the workbench as drafts")
    p.add_argument("paths", nargs="+", help="files under a content folder, or the folder; countries.txt too")
    p.add_argument("--author", required=True, help="the drafts' author (a staff username)")
    p.add_argument("--note", help="the drafts' note")
    p.set_defaults(func=_content_import)

    nlu = sub.add_parser("nlu", help="the NLU model: train, evaluate, serve").add_subparsers(dest="nlu_command", required=True)
    p = nlu.add_parser("train", help="train the Rasa model (cached by a hash of nlu/)")
    p.add_argument("--if-needed", action="store_true", default=True, help="only when nlu/ changed (default)")
    p.add_argument("--force", action="store_true", help="train even if a model for these inputs exists")
    p.set_defaults(func=_train)
    p = nlu.add_parser("evaluate", help="per-intent and per-language scores on the held-out sets, confusion matrix")
    p.add_argument("files", nargs="*", help="held-out TSV files (lang, intent, text); default: nlu/heldout/*.tsv")
    p.add_argument("--out", default="reports", help="folder for the report and the confusion matrix (default reports/)")
    p.add_argument("--url", help="NLU server URL")
    p.add_argument("--nearmiss", help="folder of near-miss TSV files (lang, label, text); default nlu/nearmiss/")
    p.set_defaults(func=_evaluate)
    p = nlu.add_parser("retrain", help="train a candidate model (finetuned when only examples changed), test it "
                       "against the model served (the gate), print the report")
    p.add_argument("--mode", choices=("auto", "full", "finetune"), default="auto",
                   help="auto (default): finetune when only examples changed, else a full training")
    p.add_argument("--epoch-fraction", type=float, default=None,
                   help="when finetuning: this fraction of the config's epochs (default 0.25)")
    p.add_argument("--promote", action="store_true", help="serve the candidate at once if it passes the gate")
    p.add_argument("--job", type=int, help=argparse.SUPPRESS)  # a job the console queued
    p.set_defaults(func=_retrain)
    p = nlu.add_parser("promote", help="serve a model of the history on every NLU server (NLU_REPLICAS), no downtime")
    p.add_argument("model_id", type=int)
    p.set_defaults(func=_promote)
    p = nlu.add_parser("rollback", help="serve the model served before the current one again")
    p.set_defaults(func=_promote)
    p = nlu.add_parser("models", help="the model history: status, scores, examples per language")
    p.add_argument("--last", type=int, default=20)
    p.set_defaults(func=_models)
    p = nlu.add_parser("serve", help="run the Rasa server in the foreground")
    p.add_argument("--url", help="where to listen (default NLU_URL)")
    p.set_defaults(func=_serve)

    db = sub.add_parser("db", help="the database: migrations and retention").add_subparsers(dest="db_command", required=True)
    p = db.add_parser("upgrade", help="apply the Alembic migrations (DATABASE_URL; SQLite by default)")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=_db_upgrade)
    p = db.add_parser("purge", help="delete conversations older than the retention period (RETENTION_DAYS)")
    p.add_argument("--days", type=int, help="override RETENTION_DAYS")
    p.add_argument("--dry-run", action="store_true", help="count only")
    p.set_defaults(func=_db_purge)

    register = sub.add_parser("register", help="the register of licensed OEPs (BE&OE)").add_subparsers(
        dest="register_command", required=True)
    p = register.add_parser("import", help="import saved pages of the list of OEPs (HTML), CSV files, notices (CSV)")
    p.add_argument("files", nargs="+", help="the files (.html pages of the table, .csv with its columns, notices .csv)")
    p.add_argument("--date", help="the day the pages were saved, YYYY-MM-DD (default: today)")
    p.add_argument("--yes", action="store_true", help="apply without asking (name-matched notices stay unlinked)")
    p.set_defaults(func=_register_import)
    p = register.add_parser("status", help="the register the bot checks and the latest imports")
    p.add_argument("--last", type=int, default=10, help="how many imports to list (default 10)")
    p.set_defaults(func=_register_status)

    from .web.cli import add_commands as add_console_commands

    add_console_commands(sub)  # safesafar console, safesafar staff ...
    p = sub.add_parser("health", help="exit 0 when the database and the NLU answer (for container health checks)")
    p.set_defaults(func=_health)

    args = parser.parse_args(argv)
    return args.func(args, Settings.from_env())


if __name__ == "__main__":
    sys.exit(main())
