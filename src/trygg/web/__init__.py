"""The review console: server-rendered pages (Jinja2, htmx) under ``/console`` of the API app.

Start at :func:`mount_console` (docs/console.md). The names are imported on first use, so the
``trygg`` command can register ``trygg reviewer`` without the ``api`` extra's packages.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["ConsoleSettings", "mount_console"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'trygg.web' has no attribute {name!r}")
    return getattr(import_module("trygg.web.console"), name)
