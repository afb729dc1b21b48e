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
