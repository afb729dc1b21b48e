"""Policy commands for the ``trygg`` CLI: ``policy check`` and ``policy diff``.

``check`` exits 0 for a valid file and 1 with the error (file:line: key: message) otherwise.
``diff`` prints one JSON line per event on which the candidate decides differently from the
enforced policy, then a summary on stderr; exit 0 either way (a difference is a finding, not a
failure), 1 when a file cannot be read, 2 for an invalid policy.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from trygg.policy import Policy, PolicyError

policy_app = typer.Typer(help="Validate policy files and compare two policies on events.", no_args_is_help=True)


def _load(spec: str) -> Policy:
    """A policy file, or ``default`` for the shipped default policy."""
    try:
        return Policy.default() if spec == "default" else Policy.load(spec)
    except (OSError, PolicyError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2 if isinstance(exc, PolicyError) else 1) from None


@policy_app.command("check")
def check(file: Annotated[Path, typer.Argument(help="Policy TOML file.")]) -> None:
    """Validate FILE; errors name the line and the key."""
    try:
        policy = Policy.load(file)
    except (OSError, PolicyError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    p = policy.protection
    typer.echo(
        f"ok: {policy.id} ({policy.mode}), {len(policy.rules)} rules; contact gate: {p.contact.adult_to_unconnected_minor}, "
        f"fan-out {p.contact.fan_out_minors} minors / {p.contact.fan_out_window_minutes} min; ads: profiling {p.ads.profiling_for_minors}, "
        f"{len(p.ads.blocked_categories_for_minors)} blocked categories; adult proof from {p.age.adult_proof_assurance}"
    )


@policy_app.command("diff")
def diff(
    enforced: Annotated[str, typer.Argument(help="The enforced policy file ('default' for the shipped one).")],
    candidate: Annotated[str, typer.Argument(help="The candidate policy file.")],
    events: Annotated[Path, typer.Option("--events", help="Events in JSON Lines.")],
    no_model: Annotated[bool, typer.Option("--no-model", help="Rules only: do not fuse the learned model.")] = False,
) -> None:
    """List the events on which CANDIDATE decides differently from ENFORCED."""
    from trygg.events import read_events
    from trygg.policy.shadow import diff_policies

    first, second = _load(enforced), _load(candidate)
    model = None
    if not no_model:
        try:
            from trygg.model import load_default

            model = load_default()
        except ImportError:
            model = None
    try:
        parsed = list(read_events(events))
    except OSError as exc:
        typer.echo(f"error: {events}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    rejected = [p.error for p in parsed if p.error is not None]
    differences = diff_policies(first, second, (p.event for p in parsed if p.event is not None), model=model)
    for row in differences:
        typer.echo(json.dumps(row, ensure_ascii=False))
    print(
        f"{len(differences)} of {len(parsed) - len(rejected)} events decided differently by {second.id} than by {first.id}"
        + (f"; {len(rejected)} lines rejected" if rejected else ""),
        file=sys.stderr,
    )


def register(app: typer.Typer) -> None:
    """Add the ``policy`` group to ``app``."""
    app.add_typer(policy_app, name="policy")
