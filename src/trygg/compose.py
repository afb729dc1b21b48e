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

from trygg.detectors import discover
from trygg.engine import Engine
from trygg.events import Event
from trygg.policy import Policy
from trygg.sinks import Sink


class Settings(BaseSettings):
    """What a deployment chooses; every field has a ``TRYGG_<NAME>`` environment variable."""

    model_config = SettingsConfigDict(env_prefix="TRYGG_", extra="forbid")

    database_url: str | None = Field(None, description="SQLAlchemy URL of the store; None: sqlite:///trygg.db.")
    model: bool = Field(True, description="Fuse the shipped learned conversation model with the rules.")
    semantic: bool = Field(
        True,
        description="Wrap the model in the multilingual semantic cascade when the semantic extra is installed: a conversation that stays undecided gets its recent window read by the encoder.",
    )
    transcripts: bool = Field(
        True,
        description="Score messages that are whole chat transcripts (280+ characters) with the semantic model, when its extra is installed.",
    )
    media: bool = Field(True, description="Assess media events (hash banks, nudity) when the media extra is installed.")
    media_dir: Path | None = Field(
        None, description="Folder that media event paths are relative to; None accepts only inline data or pdq hashes."
    )
    policy: Path | None = Field(None, description="Policy TOML file; None: the shipped default policy.")
    age_trust_list: Path | None = Field(
        None, description="PEM file or folder of trusted EU age verification issuer CAs; None: mdoc proofs are refused."
    )
    age_client_id: str | None = Field(None, description="The platform's OpenID4VP client_id, bound into every mdoc proof.")
    age_response_uri: str | None = Field(None, description="The OpenID4VP response_uri the wallet answered to.")
    cases: bool = Field(True, description="Open review cases from decisions that hold for review or report.")
    vault_key_file: Path | None = Field(None, description="JSON keyring file of the evidence vault (AES-256-GCM keys).")
    vault_keys: str | None = Field(None, description="The evidence vault's keyring JSON itself, for secret stores that inject values.")
    webhook_url: str | None = Field(None, description="Where decision webhooks are delivered; None: no webhooks.")
    webhook_secret: str | None = Field(None, description="HMAC-SHA256 secret that signs each webhook.")


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
    model = load_default()
    if settings.semantic:
        from trygg.model.cascade import build_cascade

        model = build_cascade(model, semantic=True, alert_risk=load_policy(settings).alert_risk)
    return model


@dataclass(frozen=True)
class Pipeline:
    """An engine and the edge step its adapters run on each event before it.

    ``prepare`` does the I/O the engine must not: the media ingest reads, decodes and hashes
    media (and scores nudity), so that media reach the engine as hashes and scores. None when
    media are off.
    """

    engine: Engine
    prepare: Callable[[Event], Event] | None = None
    #: Outputs every runner writes besides its own (review cases), see :func:`output_sinks`.
    sinks: tuple[Sink, ...] = ()


def build_pipeline(settings: Settings | None = None, store: Any = None, model: Any = None) -> Pipeline:
    """The engine wired as ``settings`` say, with its media ingest; ``store`` holds the hash
    banks the media detector matches against (loaded into memory on the first media event).

    ``model`` replaces the shipped model (the lab evaluates candidate models this way).
    """
    settings = settings or Settings()
    prepare = None
    if settings.media and store is not None:
        from trygg.media_wiring import LazyMediaIngest

        prepare = LazyMediaIngest(settings.media_dir)
    engine = Engine(
        policy=load_policy(settings),
        model=model if model is not None else load_model(settings),
        detectors=discover(settings, store),
    )
    if settings.age_trust_list is not None:
        verifier = load_mdoc_verifier(settings)
        engine.age_verifiers[verifier.method] = verifier
    return Pipeline(engine, prepare, tuple(output_sinks(settings, store, engine)))


def load_mdoc_verifier(settings: Settings) -> Any:
    """The EU age verification (mdoc) verifier the settings configure (needs the ``age`` extra)."""
    from trygg.age.mdoc import MdocAgeVerifier
    from trygg.age.transcript import OpenID4VPTranscript
    from trygg.age.trust import TrustList

    if not settings.age_client_id or not settings.age_response_uri:
        raise ValueError("age_trust_list needs age_client_id and age_response_uri (the OpenID4VP handover)")
    return MdocAgeVerifier(
        TrustList.from_pem(settings.age_trust_list),
        OpenID4VPTranscript(settings.age_client_id, settings.age_response_uri),
    )


def output_sinks(settings: Settings, store: Any, engine: Engine) -> list[Sink]:
    """The outputs every runner writes besides its own (a decisions file, an API answer):
    review cases, and decision webhooks when a webhook URL is set, in the store's database."""
    if not settings.cases or store is None:
        return []
    from trygg.cases.sink import CaseSink
    from trygg.store.schema import create_schema

    create_schema(store.engine)  # the case tables, registered by importing trygg.cases, once per pipeline
    return [CaseSink(store.engine, engine, decision_webhooks=settings.webhook_url is not None)]


def load_keyring(settings: Settings) -> Any:
    """The evidence vault's keyring the settings name, or None when none is configured."""
    from trygg.cases.vault import KEY_FILE_ENV, KEYS_ENV, Keyring

    given = {KEY_FILE_ENV: str(settings.vault_key_file or ""), KEYS_ENV: settings.vault_keys or ""}
    return Keyring.from_environment(given) if any(given.values()) else None


def build_engine(settings: Settings | None = None, store: Any = None, model: Any = None) -> Engine:
    """The engine alone, for callers that send no media needing I/O and keep no cases
    (evaluation, the bench, the golden replay)."""
    settings = (settings or Settings()).model_copy(update={"cases": False})
    return build_pipeline(settings, store, model).engine
