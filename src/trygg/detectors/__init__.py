"""Detectors: one interface for every kind of event, and discovery, so adding one is one module.

A detector is a pure function of (event, context) -> signals: the language-pack text detector
for messages, the hash-bank and nudity detector for media, and whatever a platform adds (a
classifier of its own, a new media hash). The engine runs the detectors of an event's type and
hands their signals to the conversation state and the policy, which decides every action:
detectors find, they never act.

Each module of this package is one detector and defines ``build(settings, store)``, returning the
detector or None when the settings turn it off; :func:`discover` finds them all, so a new
detector needs its module here and its test, nothing else (``docs/extending.md``).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from trygg.signals.base import Detector


def discover(settings: Any, store: Any = None) -> dict[str, list[Detector]]:
    """Every detector of this package that ``settings`` turn on, by event type, in module order."""
    by_type: dict[str, list[Detector]] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        detector = module.build(settings, store)
        if detector is None:
            continue
        for event_type in detector.event_types:
            by_type.setdefault(event_type, []).append(detector)
    return by_type
