"""The review console: server-rendered pages (Jinja2, htmx) under ``/console`` of the API app.

Start at :func:`mount_console` (docs/console.md).
"""

from __future__ import annotations

from trygg.web.console import ConsoleSettings, mount_console

__all__ = ["ConsoleSettings", "mount_console"]
