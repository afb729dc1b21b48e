"""The composition root: the one place where an Engine is built from settings.

The CLI, the HTTP API, the demo, the benchmark and the evaluators all call
:func:`build_engine`, so they decide with the same wiring (the same policy, the same model, the
same media): a demo that ran without the model ``scan`` uses would show decisions no platform
gets. Settings are declared once, in :class:`Settings`, read from arguments or ``TRYGG_*``
environment variables, and each is documented in ``docs/configuration.md`` (a test fails when
one is not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from trygg.engine import Engine
from trygg.events import Event
from trygg.policy import Policy


class Settings(BaseSettings):
    """What a deployment chooses; every field has a ``TRYGG_<NAME>`` environment variable."""

    model_config = SettingsConfigDict(env_prefix="TRYGG_", extra="forbid")

    database_url: str | None = Field(None, description="SQLAlchemy URL of the store; None: sqlite:///trygg.db.")
    model: bool = Field(True, description="Fuse the shipped learned conversation model with the rules.")
    media: bool = Field(True, description="Assess media events (hash banks, nudity) when the media extra is installed.")
    media_dir: Path | None = Field(
        None, description="Folder that media event paths are relative to; None accepts only inline data or pdq hashes."
    )
    policy: Path | None = Field(None, description="Policy TOML file; None: the shipped default policy.")


def load_policy(settings: Settings) -> Policy:
    """The policy the settings name (raises ``PolicyError`` / ``OSError`` naming the fault)."""
    return Policy.load(settings.policy) if settings.policy else Policy.default()


def load_model(settings: Settings) -> Any:
    """The shipped conversation model, or None when turned off or not installed."""
    if not settings.model:
        return None
    try:
        from trygg.model import load_default
    except ImportError:
        return None
    return load_default()


@dataclass(frozen=True)
class Pipeline:
    """An engine and the edge step its adapters run on each event before it.

    ``prepare`` does the I/O the engine must not: the media ingest reads, decodes and hashes
    media (and scores nudity), so that media reach the engine as hashes and scores. None when
    media are off.
    """

    engine: Engine
    prepare: Callable[[Event], Event] | None = None


def build_pipeline(settings: Settings | None = None, store: Any = None, model: Any = None) -> Pipeline:
    """The engine wired as ``settings`` say, with its media ingest; ``store`` holds the hash
    banks the media detector matches against (loaded into memory on the first media event).

    ``model`` replaces the shipped model (the lab evaluates candidate models this way).
    """
    settings = settings or Settings()
    detector = prepare = None
    if settings.media and store is not None:
        from trygg.media_wiring import build_media

        prepare, detector = build_media(store.engine, settings.media_dir)
    engine = Engine(policy=load_policy(settings), model=model if model is not None else load_model(settings), media=detector)
    return Pipeline(engine, prepare)


def build_engine(settings: Settings | None = None, store: Any = None, model: Any = None) -> Engine:
    """The engine alone, for callers that send no media needing I/O (evaluation, the bench)."""
    return build_pipeline(settings, store, model).engine
