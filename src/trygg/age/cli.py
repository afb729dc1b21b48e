"""Age commands for the ``trygg`` CLI: ``age show USER``.

Prints one user's stored age picture as JSON: the evidence (declared, stated in chat with the
message's event id, proofs, estimates), the flags, the protective reading under a policy, and the
contact state (restriction, complaints by minors). Exit 1 when the store has no such user.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

age_app = typer.Typer(help="Inspect what trygg knows about a user's age.", no_args_is_help=True)


@age_app.command("show")
def show(
    user: Annotated[str, typer.Argument(help="The user id.")],
    db: Annotated[Optional[str], typer.Option("--db", help="Database URL (default: $TRYGG_DATABASE_URL or sqlite:///trygg.db).")] = None,
    policy: Annotated[Optional[Path], typer.Option(help="Policy TOML file for the protective reading (default: the shipped one).")] = None,
) -> None:
    """Show USER's age picture, flags, protective reading and contact state."""
    from trygg.age.assurance import protective_reading
    from trygg.age.picture import AgePicture
    from trygg.policy import Policy, PolicyError
    from trygg.store.repository import Store

    try:
        rules = (Policy.load(policy) if policy else Policy.default()).protection.age
    except (OSError, PolicyError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    stored = Store(db).load_users([user]).get(user)
    if stored is None:
        typer.echo(f"error: no user {user!r} in the store", err=True)
        raise typer.Exit(1)
    picture = AgePicture.from_dict(stored)
    reading = protective_reading(picture, rules)
    out = {
        **picture.to_dict(),
        "p_adult": round(picture.p_adult, 3),
        "suspected_age_deception": picture.suspected_age_deception,
        "protective_reading": reading.as_reason(),
    }
    if "contact" in stored:
        out["contact"] = {k: v for k, v in stored["contact"].items() if k != "connections"}
        out["contact"]["connections"] = len(stored["contact"].get("connections", []))
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


def register(app: typer.Typer) -> None:
    """Add the ``age`` group to ``app``."""
    app.add_typer(age_app, name="age")
