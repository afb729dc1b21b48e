"""The console's interface text: one small message catalogue per language (en, sv).

The language is, in order: the reviewer's toggle (a cookie), the console's setting, the
browser's ``Accept-Language``, then English.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

LANGUAGES: tuple[str, ...] = ("en", "sv")
DEFAULT = "en"


@cache
def catalogue(language: str) -> dict[str, str]:
    """The messages of ``language`` (one of :data:`LANGUAGES`)."""
    if language not in LANGUAGES:
        raise ValueError(f"no interface text for {language!r}; have {', '.join(LANGUAGES)}")
    return tomllib.loads(resources.files(__name__).joinpath(f"{language}.toml").read_text("utf-8"))


def from_accept_language(header: str | None) -> str | None:
    """The first language of an ``Accept-Language`` header that the console speaks, by q-value."""
    if not header:
        return None
    ranked = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-quality, position, tag.strip().lower().split("-")[0]))
    for _, _, primary in sorted(ranked):
        if primary in LANGUAGES:
            return primary
    return None


def choose(cookie: str | None, setting: str | None, accept_language: str | None) -> str:
    for candidate in (cookie, setting):
        if candidate in LANGUAGES:
            return candidate  # type: ignore[return-value]
    return from_accept_language(accept_language) or DEFAULT
