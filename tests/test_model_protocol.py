"""The engine's model port and the shipped model agree, method by method, so neither drifts."""

from __future__ import annotations

import inspect

import pytest

from trygg.engine import ModelLike
from trygg.model.conversation_model import ConversationModel


@pytest.mark.parametrize("method", ["new_state", "resume_state", "update"])
def test_shipped_model_implements_the_port_exactly(method: str) -> None:
    # Bound to an instance, so a static method and a method compare alike (no ``self``).
    port = inspect.signature(getattr(ModelLike, method)).parameters
    port = {name: p for name, p in port.items() if name != "self"}
    implementation = inspect.signature(getattr(ConversationModel, method)).parameters
    implementation = {name: p for name, p in implementation.items() if name != "self"}
    assert list(port) == list(implementation), f"{method}: parameters differ"
    for name, parameter in port.items():
        assert implementation[name].default == parameter.default, f"{method}({name}): defaults differ"


def test_port_lists_every_method_the_engine_calls() -> None:
    source = inspect.getsource(__import__("trygg.engine", fromlist=["Engine"]))
    called = {name for name in ("new_state", "resume_state", "update") if f"self.model.{name}(" in source}
    declared = {name for name in vars(ModelLike) if not name.startswith("_")}
    assert called <= declared
