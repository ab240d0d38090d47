"""The ``newsbot`` command line.

Exit codes: 0 success, 2 bad usage or configuration, 1 any other failure; a failure always
prints one line on stderr (never the bot token). ``--json`` prints exactly one JSON document on stdout;
``check-summaries --json`` prints JSON Lines, one object per line read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from bot.config import ConfigError, RegionSettings, Settings, environment_warnings, load_settings
from bot.redact import install_redaction, redact
from bot.texts import LANGUAGES
from summarizer.profiles import CTRANSLATE2, EXTRACTIVE, OPENAI, PACKAGE_PREFIX, ProfileError

log = logging.getLogger("newsbot")

ROLES = ("all", "bot", "worker")
SOURCE_ACTIONS = ("list", "add", "remove", "pause", "resume", "import", "export")


class UsageError(Exception):
    """Bad arguments that argparse could not catch (exit code 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``newsbot`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s") if args.verbose else _ShortFormatter()
    )
    logging.basicConfig(
        level=logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING, handlers=[handler]
    )
    if args.verbose > 1:  # their debug lines carry whole updates and requests: names, texts, locations
        for name in ("telegram", "httpx", "httpcore", "tornado"):
            logging.getLogger(name).setLevel(logging.INFO)
    for warning in environment_warnings():
        print(f"newsbot: warning: {warning}", file=sys.stderr)
    try:
        return args.handler(args) or 0
    except (ConfigError, ProfileError, UsageError) as exc:
        _fail(str(exc))
        return 2
    except KeyboardInterrupt:
        _fail("interrupted")
        return 1
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except Exception as exc:  # last resort: one line for the operator, the traceback in the log
        log.debug("command failed", exc_info=True)
        _fail(str(exc) or f"unexpected {type(exc).__name__} (run with -vv for the details)")
        return 1


class _ShortFormatter(logging.Formatter):
    """Log records without -v: one line each, in the voice of the command's own messages
    (``newsbot: warning: …``), without time, logger name or traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return f"newsbot: {record.levelname.lower()}: {record.getMessage()}"


def _fail(message: str) -> None:
    """One line on stderr, secrets redacted; several reasons are joined with '; '."""
    lines = [line.strip() for line in redact(message).splitlines() if line.strip()] or ["failed"]
    print(f"newsbot: error: {'; '.join(lines)}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsbot", description="Local news and weather digests for Telegram.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging on stderr (-vv for debug)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler, help_text: str, json_output: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("-c", "--config", help="TOML config file (default: $NEWSBOT_CONFIG, else embedded defaults)")
        if json_output:
            sub.add_argument("--json", action="store_true", help="print one JSON document")
        sub.set_defaults(handler=handler)
        return sub

    run = command("run", _cmd_run, "run the Telegram bot and its scheduler until stopped (SIGINT/SIGTERM)", json_output=False)
    run.add_argument(
        "--role",
        choices=ROLES,
        default="all",
        help="all (default): everything; bot: Telegram updates, pushes, weather; worker: source polling, "
        "extraction, summarization (several processes share a PostgreSQL database)",
    )

    fetch = command("fetch", _cmd_fetch, "run one ingestion pass: fetch, extract, dedupe, summarize, store")
    fetch.add_argument("--source", help="only the source with this name")

    digest = command("digest", _cmd_digest, "print the digest a subscriber would get now")
    digest.add_argument("--fetch", action="store_true", help="run an ingestion pass first")
    digest.add_argument("--lang", choices=LANGUAGES, help="reader language (default: region language)")
    digest.add_argument("--limit", type=_positive_int, help="number of stories (default: digest.max_items)")
    digest.add_argument("--region", help="a [[regions]] name (default: the first region)")

    weather = command("weather", _cmd_weather, "print the forecast for the configured region")
    weather.add_argument("--lang", choices=LANGUAGES, help="language of the text (default: region language)")
    weather.add_argument("--region", help="a [[regions]] name (default: the first region)")
    weather.add_argument("--chart", type=Path, metavar="FILE", help="also write the 48-hour chart chats get, as PNG, to FILE")

    models = command(
        "models",
        _cmd_models,
        "show summarization profiles and their weights, download them, or show "
        "how often the faithfulness gate accepted their summaries (stats)",
    )
    models.add_argument("action", choices=("list", "pull", "stats"))
    models.add_argument("profile", nargs="?", help="pull: only this profile (default: every transformer profile)")
    models.add_argument("--hours", type=_positive_int, help="stats: the last this many hours (default: 24, as /stats)")

    extract = command("extract", _cmd_extract, "extract title, date, language, text and weather bulletins")
    extract.add_argument("target", metavar="URL|FILE")

    summarize = command("summarize", _cmd_summarize, "summarize an article (URL, file, or - for stdin)")
    summarize.add_argument("target", metavar="URL|FILE|-")
    summarize.add_argument("--profile", help="profile from models.yaml (default: routed by language)")

    check = command(
        "check-summaries",
        _cmd_check_summaries,
        "judge summaries with the faithfulness gate: one JSON "
        'object a line, {"id", "source", "summary", "language" (default: detected)}',
        json_output=False,
    )
    check.add_argument("file", metavar="FILE|-")
    check.add_argument("--json", action="store_true", help="print JSON Lines: one verdict a line, in input order")

    sources = command(
        "sources",
        _cmd_sources,
        "the source catalog in the database: list, add (a feed found from a page), remove, pause or resume "
        "sources; import or export OPML 2.0",
    )
    sources.add_argument("action", choices=SOURCE_ACTIONS)
    sources.add_argument(
        "target",
        nargs="?",
        metavar="URL|NAME|FILE",
        help="add: a page or feed URL; remove/pause/resume: a name; import: FILE.opml or -",
    )
    sources.add_argument("--name", help="add: the source's name (default: the feed's or page's title)")
    sources.add_argument("--kind", help="add: rss, page or files, read as given (default: discovered from the URL)")
    sources.add_argument("--interval", type=_positive_int, help="add: minutes between passes (default: 15)")
    sources.add_argument("--link-pattern", help="add: page sources: regex that article URLs match")
    sources.add_argument("--all", action="store_true", help="list, export: removed sources too")
    sources.add_argument("--dry-run", action="store_true", help="add, import: show what would be added, save nothing")
    return parser


def _positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return int(value)


def _print_json(document: Any) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def _open(settings: Settings):
    from bot.storage import Database
    from summarizer import Summarizer

    return Database(settings.database.url), Summarizer.from_file(_models_file(settings)[0])


def _models_file(settings: Settings) -> tuple[Path | None, str]:
    """The models.yaml in use and where it was found: ``[summarizer] models_file``, then
    ``./models.yaml``, then the copy shipped in the package."""
    from summarizer.profiles import find_models_file

    configured = settings.resolve_path(settings.summarizer.models_file)
    explicit = "models_file" in settings.summarizer.model_fields_set
    try:
        path, where = find_models_file(configured, explicit)
    except ProfileError as exc:
        raise ConfigError(
            f"{settings.source_file or 'NEWSBOT_SUMMARIZER_MODELS_FILE'}: key 'summarizer.models_file': {exc}"
        ) from None
    if path is None:
        log.info("no models.yaml found: using the built-in extractive profile")
    return path, where


def _run_fetch(settings: Settings, db, summarizer, only: str | None, quiet: bool) -> list:
    from bot.ingest.pipeline import Ingestor

    ingestor = Ingestor(settings, db, summarizer)
    try:
        if not ingestor.selected(only):
            print(
                f"newsbot: warning: no active sources: add [[sources]] to {settings.source_file} or run `newsbot sources add URL`",
                file=sys.stderr,
            )
        if quiet or not sys.stderr.isatty():
            return asyncio.run(ingestor.run(only=only))
        from rich.progress import Progress

        with Progress(transient=True) as progress:
            task = progress.add_task("fetching sources", total=len(ingestor.selected(only)))
            return asyncio.run(ingestor.run(only=only, on_source_done=lambda _r: progress.advance(task)))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _cmd_run(args: argparse.Namespace) -> int:
    from telegram.error import InvalidToken, NetworkError

    from bot.maintenance import webhook_secret
    from bot.telegram.app import build_application
    from bot.telegram.runner import serve

    settings = load_settings(args.config)
    if args.role != "all" and settings.database.url.startswith("sqlite"):
        raise ConfigError(
            f"--role {args.role} shares the work with other newsbot processes through PostgreSQL; "
            f"with SQLite ({settings.database.url}) run one `newsbot run` (role all)"
        )
    if args.verbose == 0:
        logging.getLogger("bot").setLevel(logging.INFO)
    if args.role == "worker":
        from bot.worker import run_worker

        db, summarizer = _open(settings)
        try:
            asyncio.run(run_worker(settings, db, summarizer))
        finally:
            db.close()
        return 0
    telegram = settings.telegram
    if not telegram.token:
        raise ConfigError("no Telegram bot token: set [telegram] token in the config file or NEWSBOT_TELEGRAM_TOKEN")
    install_redaction(telegram.token)
    if args.verbose == 0:
        logging.getLogger("telegram.ext").addFilter(_not_a_failed_start)
    db, summarizer = _open(settings)
    try:
        application = build_application(settings, db, summarizer, role=args.role)
        secret = webhook_secret(db, telegram.webhook_secret) if telegram.webhook_url else None
        if secret:
            install_redaction(secret)
        asyncio.run(serve(application, settings, db, secret))
    except (InvalidToken, NetworkError) as exc:
        log.info("the bot could not start", exc_info=True)  # -v: the details, token redacted
        raise _start_error(exc, telegram.api_base_url) from None
    finally:
        db.close()
    return 0


def _start_error(exc: Exception, api_base_url: str) -> ConfigError:
    """The one-line reason ``newsbot run`` could not start."""
    from telegram.error import BadRequest, InvalidToken

    if isinstance(exc, InvalidToken):
        return ConfigError("Telegram rejected the bot token (check [telegram] token / NEWSBOT_TELEGRAM_TOKEN)")
    if isinstance(exc, BadRequest):  # e.g. setWebhook refusing the URL
        return ConfigError(f"the Telegram Bot API at {redact(api_base_url)} refused to start the bot: {exc}")
    return ConfigError(f"cannot reach the Telegram Bot API at {redact(api_base_url)}: {exc}")  # TimedOut included


def _not_a_failed_start(record: logging.LogRecord) -> bool:
    """Without -v, PTB's traceback for a failed start is left out: the one-line error says it all."""
    return not (record.levelno >= logging.ERROR and record.getMessage().startswith("Network Retry Loop (Bootstrap"))


def _cmd_fetch(args: argparse.Namespace) -> int:
    from bot.maintenance import prune
    from bot.storage.models import utcnow

    settings = load_settings(args.config)
    db, summarizer = _open(settings)
    try:
        reports = _run_fetch(settings, db, summarizer, args.source, quiet=args.json)
        pruned = prune(db, settings.storage.keep_days, utcnow())
    finally:
        db.close()
    if any(pruned.values()):
        log.info("pruned data older than %d days: %s", settings.storage.keep_days, pruned)
    if args.json:
        _print_json({"sources": [r.to_dict() for r in reports]})
    else:
        for report in reports:
            state = "not modified" if report.not_modified else f"{report.new} new"
            print(f"{report.name}: {state}" + (f", {len(report.errors)} error(s)" if report.errors else ""))
            for error in report.errors:
                print(f"  ! {error}")
    return 1 if reports and all(r.errors and not r.new for r in reports) else 0


def _region(settings: Settings, name: str | None) -> RegionSettings:
    """The region ``--region`` names (the first one without it); UsageError for an unknown name."""
    if name is not None and name not in settings.region_names():
        raise UsageError(f"--region: no region named {name!r} (known: {', '.join(settings.region_names())})")
    return settings.region_for(name)


def _weather_report(settings: Settings, db, region: RegionSettings):
    from bot.weather_service import WeatherService

    report = asyncio.run(WeatherService(settings, db).report(region=region.name))
    if report.error:
        print(f"newsbot: warning: weather: {report.error}", file=sys.stderr)
    return report


def _cmd_digest(args: argparse.Namespace) -> int:
    from bot.digest import build_digest, render_text
    from bot.storage.models import utcnow

    settings = load_settings(args.config)
    region = _region(settings, args.region)
    db, summarizer = _open(settings)
    try:
        if args.fetch:
            for report in _run_fetch(settings, db, summarizer, None, quiet=args.json):
                for error in report.errors:
                    print(f"newsbot: warning: {report.name}: {error}", file=sys.stderr)
        weather = _weather_report(settings, db, region)
        now = utcnow().astimezone(region.tz)
        digest = build_digest(
            db,
            args.lang or region.language,
            args.limit or settings.digest.max_items,
            weather,
            now,
            sources=settings.region_sources(region.name),
        ).with_lead(summarizer)
    finally:
        db.close()
    if args.json:
        _print_json(digest.to_dict())
    else:
        sys.stdout.write(render_text(digest))
    return 0


def _cmd_weather(args: argparse.Namespace) -> int:
    from bot.storage import Database
    from bot.storage.models import utcnow

    settings = load_settings(args.config)
    region = _region(settings, args.region)
    language = args.lang or region.language
    db = Database(settings.database.url)
    try:
        report = _weather_report(settings, db, region)
    finally:
        db.close()
    now = utcnow().astimezone(region.tz)
    if args.chart:
        _write_chart(report, language, now, args.chart)
    if args.json:
        _print_json(report.to_dict(language, now))
    else:
        print(report.text(language, now))
    return 0


def _write_chart(report, language: str, now: datetime, path: Path) -> None:
    """The chart chats would get now, written to ``path``; a warning when there is none to draw."""
    from bot.weather_chart import Charts

    png = asyncio.run(Charts().chart(report, language, now))
    if png is None:
        print("newsbot: warning: weather: no chart (no hourly forecast ahead, or drawing failed)", file=sys.stderr)
        return
    try:
        path.write_bytes(png)
    except OSError as exc:
        raise UsageError(f"--chart: cannot write {path}: {exc.strerror}") from None


def _cmd_models(args: argparse.Namespace) -> int:
    from summarizer import Summarizer, weights

    settings = load_settings(args.config)
    if args.action == "stats":
        return _gate_stats(settings, args.hours, args.json)
    path, where = _models_file(settings)
    summarizer = Summarizer.from_file(path)
    profiles = summarizer.config.profiles
    if args.profile and args.profile not in profiles:
        raise UsageError(f"unknown profile {args.profile!r} (known: {', '.join(sorted(profiles))})")
    if args.action == "pull":
        return _pull(summarizer, args.profile, path)
    rows: list[dict[str, Any]] = []  # --json prints them as they are
    for name, profile in profiles.items():
        rows.append(
            {
                "profile": name,
                "kind": profile.kind,
                "model": profile.model or "textrank",
                "gguf_file": profile.gguf_file or "",
                "revision": profile.revision
                if profile.model and profile.kind != OPENAI and not profile.model.startswith((PACKAGE_PREFIX, "/"))
                else "",
                "languages": profile.languages,
                "weights": weights.status(summarizer, name),
                "base_url": profile.base_url or "",
                "routed": sorted(lang for lang, target in summarizer.config.routing.items() if target == name)
                + (["(default)"] if summarizer.config.default == name else [])
                + (["(checker)"] if summarizer.config.checker == name else [])
                + (["(lead)"] if summarizer.config.lead == name else [])
                + [f"translate {pair}" for pair, target in summarizer.config.translate.items() if target == name],
                "licence": profile.licence,
                "engine": "" if profile.kind in (EXTRACTIVE, OPENAI) else profile.engine,
                "compute_type": profile.compute_type if profile.engine == CTRANSLATE2 else "",
            }
        )
    if args.json:
        _print_json({"models_file": str(path) if path else None, "found": where, "profiles": rows})
        return 0
    print(f"models file: {path or '(none: built-in extractive profile)'} ({where})\n")
    for row in rows:
        model = f"{row['model']}@{row['revision']}" if row["revision"] else row["model"]
        print(f"{row['profile']:<16} {row['kind']:<11} {row['weights']:<8} {model}  serves: {', '.join(row['routed']) or '-'}")
        if row["gguf_file"]:
            from summarizer.backends.transformer import GGUF_HINT, gguf_installed

            print(
                f"{'':<16} gguf file: {row['gguf_file']} (dequantized on load)"
                + ("" if gguf_installed() else f" (gguf not installed: {GGUF_HINT})")
            )
        if row["licence"]:
            print(f"{'':<16} licence: {row['licence']}")
        if row["engine"] == CTRANSLATE2:
            from summarizer.backends.ct2 import INSTALL_HINT, installed

            print(
                f"{'':<16} engine: ctranslate2 {row['compute_type']}"
                + ("" if installed() else f" (not installed: {INSTALL_HINT})")
            )
        if row["base_url"]:
            print(f"{'':<16} inference server: {row['base_url']}")
    missing = [r["profile"] for r in rows if r["weights"] == "missing" and r["routed"]]
    packaged = [r["profile"] for r in rows if r["weights"] == "missing" and r["model"].startswith(PACKAGE_PREFIX)]
    if packaged:
        from summarizer.backends.transformer import install_hint

        for name in packaged:
            print(f"\n{name}: {install_hint(profiles[name])}")
        missing = [name for name in missing if name not in packaged]
    if missing:
        print(
            f"\nmissing weights: {', '.join(missing)}: their summaries fall back to the extractive summarizer; "
            f"run `newsbot models pull` where the Hugging Face hub is reachable"
        )
    unreachable = [r["profile"] for r in rows if r["weights"].startswith("unreachable") and r["routed"]]
    if unreachable:
        print(
            f"\ninference servers not answering: {', '.join(unreachable)}: their summaries fall back to the "
            "extractive summarizer until they answer"
        )
    return 0


def _gate_stats(settings: Settings, hours: int | None, as_json: bool) -> int:
    """Per profile, how many of the last ``hours``' summaries (default: the /stats window) the gate
    accepted, and why the rest fell back."""
    from bot.gate_report import HOURS, acceptance, report
    from bot.storage import Database
    from bot.storage.models import utcnow

    hours = hours or HOURS
    since = utcnow() - timedelta(hours=hours)
    db = Database(settings.database.url)
    try:
        profiles = acceptance(db, since)
    finally:
        db.close()
    if as_json:
        _print_json({"since": since.isoformat(), "profiles": [p.to_dict() for p in profiles]})
    else:
        print("\n".join(report(profiles, hours, "en")))
    return 0


def _pull(summarizer, only: str | None, models_file: Path | None) -> int:
    """``models pull``: each profile's weights fetched (and converted) where they must be; a line each."""
    from summarizer import weights

    names = [only] if only else [n for n, p in summarizer.config.profiles.items() if p.kind != EXTRACTIVE]
    if not names:
        print(f"nothing to pull: {models_file or 'the built-in configuration'} has no transformer profiles")
        return 0
    failures = 0
    for name in names:
        profile = summarizer.config.profiles[name]
        if weights.needs_download(profile):
            print(f"{name}: downloading {profile.model}@{profile.revision}", file=sys.stderr)
        for step in weights.pull(summarizer, name):
            failures += step.failed
            print(
                f"newsbot: error: {name}: {step.message}" if step.failed else f"{name}: {step.message}",
                file=sys.stderr if step.failed else sys.stdout,
            )
    return 1 if failures else 0


def _read_target(target: str, settings: Settings) -> tuple[str, bool, str | None]:
    """Text of a URL, a file or stdin; whether it is HTML; and the URL if any. UsageError for
    binary data (compressed, an image, an executable) and for empty input."""
    if target == "-":
        return _decoded("stdin", sys.stdin.buffer.read(), None, None, None)
    if target.startswith(("http://", "https://")):
        from bot.ingest.http import PoliteClient, host_of

        async def fetch():
            async with PoliteClient(settings.fetch, trusted_hosts=[host_of(target)]) as client:
                return await client.get(target)

        response = asyncio.run(fetch())
        return _decoded(target, response.content, response.charset, True, response.url)
    path = Path(target)
    if not path.is_file():
        raise UsageError(f"{target}: no such file (give a URL, a file path, or - for stdin)")
    return _decoded(target, path.read_bytes(), None, path.suffix.lower() in {".html", ".htm", ".xhtml"}, None)


def _decoded(
    target: str, data: bytes, charset: str | None, is_html: bool | None, url: str | None
) -> tuple[str, bool, str | None]:
    """``_read_target``'s answer for the bytes ``data`` (HTML when they look like it, for None);
    UsageError when they are binary or empty."""
    from bot.ingest.encoding import decode_bytes
    from summarizer.text import binary_problem

    problem = binary_problem(data)
    if problem:
        raise UsageError(f"{target}: not text: {problem}")
    text = decode_bytes(data, charset)
    if not text.strip():
        raise UsageError(f"{target}: it is empty (give a page or a text with an article)")
    return text, text.lstrip().startswith("<") if is_html is None else is_html, url


def _extract(args: argparse.Namespace):
    from bot.ingest.extract import extract_html, extract_plain_text

    settings = load_settings(args.config)
    text, is_html, url = _read_target(args.target, settings)
    tz = settings.region.tz
    article = extract_html(text, tz, url=url) if is_html else extract_plain_text(text, tz)
    if not article.text and not article.bulletins:
        raise UsageError(f"{args.target}: no article text found")
    return settings, article


def _cmd_extract(args: argparse.Namespace) -> int:
    _, article = _extract(args)
    if args.json:
        _print_json(article.to_dict())
        return 0
    print(article.title)
    print(f"{article.published.isoformat() if article.published else '(no date)'} · {article.language}")
    if article.image:
        print(f"image: {article.image}")
    print()
    print(article.text)
    for bulletin in article.bulletins:
        print()
        print(f"[weather bulletin] {bulletin.issuer or ''} {bulletin.issued_at or ''}")
        for period in bulletin.periods:
            print(f"  {period.label}: {period.conditions or ''} {period.low}–{period.high}°C {period.wind or ''}".rstrip())
    return 0


def _cmd_summarize(args: argparse.Namespace) -> int:
    from summarizer import Summarizer

    settings, article = _extract(args)
    summarizer = Summarizer.from_file(_models_file(settings)[0])
    if not article.text:
        raise UsageError(f"{args.target}: no article text found to summarize")
    result = summarizer.summarize(
        article.text, article.language, args.profile or settings.summarizer.profile or None, title=article.title or None
    )
    if args.json:
        _print_json(result.to_dict())
    else:
        print(result.summary)
        print(
            f"\n({result.profile} · {result.model}{' · fallback: ' + (result.reason or '') if result.fallback else ''})",
            file=sys.stderr,
        )
    return 0


def _cmd_check_summaries(args: argparse.Namespace) -> int:
    """Judge each line as it is read, print its verdict at once; exit 2 when a line could not be read.
    The models file's ``checker`` profile judges too, where one is named and can run."""
    from summarizer import Summarizer

    summarizer = Summarizer.from_file(_models_file(load_settings(args.config))[0])
    read = bad = 0
    with _lines(args.file) as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            read += 1
            result = _check_line(summarizer, line, number)
            bad += "error" in result
            print(json.dumps(result, ensure_ascii=False) if args.json else _verdict_text(result, number), flush=True)
    if bad:
        _fail(f"{bad} of {read} lines could not be read")
        return 2
    return 0


def _lines(target: str) -> AbstractContextManager[IO[str]]:
    """Stdin (``-``) or the file, read a line at a time."""
    if target == "-":
        return nullcontext(sys.stdin)
    path = Path(target)
    if not path.is_file():
        raise UsageError(f"{target}: no such file (give a JSON Lines file, or - for stdin)")
    return path.open(encoding="utf-8-sig")


def _check_line(summarizer, line: str, number: int) -> dict:
    """The gate's verdict on one input line: id, faithful, reason, check; else its error."""
    from summarizer.text import detect_language

    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return _bad_line(None, number, f"not valid JSON ({exc.msg}, column {exc.colno})")
    if not isinstance(item, dict):
        return _bad_line(None, number, "not a JSON object")
    problem = _item_problem(item)
    if problem:
        return _bad_line(item.get("id"), number, problem)
    language = item.get("language") or detect_language(item["source"])
    verdict = summarizer.judge_many([(item["summary"], item["source"], language)])[0]
    return {"id": item.get("id"), "faithful": verdict.faithful, "reason": verdict.reason, "check": verdict.check}


def _item_problem(item: dict) -> str | None:
    """What keeps an input object from being judged (None: nothing)."""
    for key in ("source", "summary"):
        if key not in item:
            return f'no "{key}"'
        if not isinstance(item[key], str):
            return f'"{key}" is not a string'
    if item.get("language") is not None and not isinstance(item["language"], str):
        return '"language" is not a string'
    return None


def _bad_line(item_id: Any, number: int, problem: str) -> dict:
    """The result of a line that could not be judged."""
    return {"id": item_id, "line": number, "faithful": None, "error": f"line {number}: {problem}"}


def _verdict_text(result: dict, number: int) -> str:
    """A result as ``check-summaries`` prints it without --json."""
    if "error" in result:
        return f"line {number}: error: {result['error'].partition(': ')[2]}"
    label = f"line {number}" if result["id"] is None else result["id"]
    return f"{label}  ok" if result["faithful"] else f"{label}  refused  {result['reason']}"


def _cmd_sources(args: argparse.Namespace) -> int:
    """``sources ACTION``: the catalog, with the config's [[sources]] applied first (as at start)."""
    from bot.ingest import catalog
    from bot.storage import Database

    settings = load_settings(args.config)
    wants = {"add": "a page or feed URL", "import": "an OPML file (or - for stdin)"}
    wants.update(dict.fromkeys(("remove", "pause", "resume"), "a source's name"))
    if args.action in wants and not args.target:
        raise UsageError(f"sources {args.action}: give {wants[args.action]}")
    if args.action not in wants and args.target:
        raise UsageError(f"sources {args.action} takes no argument (got {args.target!r})")
    if args.action == "export" and args.json:
        raise UsageError("sources export prints OPML; --json is for sources list")
    if args.action in wants:
        try:
            catalog.check_editable(settings)
        except catalog.ManagedInConfig as exc:
            raise ConfigError(str(exc)) from None
    db = Database(settings.database.url)
    try:
        catalog.apply_config(db, settings)
        return _SOURCE_ACTIONS[args.action](args, settings, db)
    except catalog.CatalogError as exc:
        raise UsageError(str(exc)) from None
    finally:
        db.close()


def _sources_list(args: argparse.Namespace, settings: Settings, db) -> int:
    from bot.ingest.catalog import source_health
    from bot.storage.models import utcnow

    health = source_health(db, utcnow(), include_removed=args.all)
    if args.json:
        _print_json({"sources": [h.to_dict() for h in health]})
        return 0
    if not health:
        print("no sources: add one with `newsbot sources add URL` or [[sources]] in the config file")
    tz = settings.region.tz
    for h in health:
        when = f"{h.last_success_at.astimezone(tz):%Y-%m-%d %H:%M}" if h.last_success_at else "never"
        print(f"{h.name}  [{h.status}] {h.kind} {h.url}")
        print(f"    last success: {when} · articles, last {len(h.days)} days: {' '.join(map(str, h.articles_per_day))}")
        if h.error_count:
            print(f"    {h.error_count} failure(s) in a row: {h.last_error}")
    return 0


def _sources_add(args: argparse.Namespace, settings: Settings, db) -> int:
    from pydantic import ValidationError

    from bot.config import SourceSettings
    from bot.ingest.catalog import add_source
    from bot.ingest.discover import discover, try_source
    from bot.ingest.http import host_of

    url = args.target
    if args.kind == "files":
        url = str(Path(url).expanduser().resolve())
    fields = {"interval_minutes": args.interval, "link_pattern": args.link_pattern}
    fields = {key: value for key, value in fields.items() if value is not None}
    try:
        if args.kind:
            found = asyncio.run(try_source(SourceSettings(name=args.name or url, kind=args.kind, url=url, **fields), settings))
        else:
            found = asyncio.run(discover(url, settings.fetch))
        name = args.name or found.title or host_of(found.url) or found.url
        config = SourceSettings(name=name, kind=found.kind, url=found.url, **fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        option = str(error["loc"][0]).removesuffix("_minutes").replace("_", "-")
        raise UsageError(f"--{option}: {error['msg'].removeprefix('Value error, ')}") from None
    if not args.dry_run:
        add_source(db, config)
    if args.json:
        _print_json(
            {
                "name": config.name,
                "kind": config.kind,
                "url": config.url,
                "via": found.via,
                "articles": len(found.candidates),
                "titles": found.titles(),
                "saved": not args.dry_run,
            }
        )
        return 0
    what = {"alternate": "the feed the page names", "feed": "a feed", "page": "a listing page", "given": f"a {found.kind} source"}
    print(f"found {what[found.via]}: {found.url}: {len(found.candidates)} article(s)")
    for title in found.titles():
        print(f"  • {title}")
    print(
        f"not saved (--dry-run): {config.name!r}"
        if args.dry_run
        else f"added {config.name!r} ({config.kind}): fetched from the next pass on"
    )
    return 0


def _sources_state(args: argparse.Namespace, settings: Settings, db) -> int:
    from bot.ingest.catalog import ACTIVE, PAUSED, REMOVED, set_state

    state = {"remove": REMOVED, "pause": PAUSED, "resume": ACTIVE}[args.action]
    row = set_state(db, args.target, state)
    if args.json:
        _print_json({"name": row.name, "state": row.state})
    else:
        done = {"remove": "removed (its articles are kept)", "pause": "paused", "resume": "resumed: fetched at the next pass"}
        print(f"{row.name!r} {done[args.action]}")
    return 0


def _sources_import(args: argparse.Namespace, settings: Settings, db) -> int:
    from bot.ingest.catalog import import_sources, listed_sources
    from bot.ingest.opml import OpmlError, parse_opml

    if args.target == "-":
        data = sys.stdin.buffer.read()
    elif Path(args.target).is_file():
        data = Path(args.target).read_bytes()
    else:
        raise UsageError(f"{args.target}: no such file (give an OPML file, or - for stdin)")
    try:
        entries, problems = parse_opml(data)
    except OpmlError as exc:
        raise UsageError(f"{args.target}: {exc}") from None
    for problem in problems:
        print(f"newsbot: warning: {args.target}: {problem}", file=sys.stderr)
    if args.dry_run:
        taken = {row.name for row in listed_sources(db)}
        added = [e.name for e in entries if e.name not in taken]
        skipped = [e.name for e in entries if e.name in taken]
    else:
        added, skipped = import_sources(db, entries)
    if args.json:
        _print_json({"added": added, "skipped": skipped, "problems": problems, "saved": not args.dry_run})
    else:
        print(f"{'would add' if args.dry_run else 'added'} {len(added)} source(s)" + (f": {', '.join(added)}" if added else ""))
        if skipped:
            print(f"skipped {len(skipped)} already in the catalog: {', '.join(skipped)}")
    return 1 if problems and not entries else 0


def _sources_export(args: argparse.Namespace, settings: Settings, db) -> int:
    from bot.ingest.catalog import listed_sources, to_settings
    from bot.ingest.opml import export_opml
    from bot.storage.models import utcnow

    rows = listed_sources(db, include_removed=args.all)
    sys.stdout.write(export_opml(map(to_settings, rows), f"newsbot sources ({settings.region.name})", utcnow()))
    return 0


_SOURCE_ACTIONS = {
    "list": _sources_list,
    "add": _sources_add,
    "remove": _sources_state,
    "pause": _sources_state,
    "resume": _sources_state,
    "import": _sources_import,
    "export": _sources_export,
}


if __name__ == "__main__":
    sys.exit(main())
