"""Where a key sits in a policy file, so that a schema error can name its line.

``tomllib`` returns plain values without positions, and a schema error found after parsing
("contact.fan_out_minors: must be an integer >= 1") is only half useful without the line to go
to. TOML's layout is regular enough to map every table header and ``key =`` line to the dotted
path the schema checks use (``rules[2].min_risk``, ``content_ratings.13-15``); a key not found
(missing keys, keys inside inline tables) falls back to the line of the nearest table around it.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*=""")
_PART = re.compile(r"""\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*\.?""")


def _parts(dotted: str) -> list[str]:
    return [p.strip("\"'") for p in _PART.findall(dotted)]


def key_lines(text: str) -> dict[str, int]:
    """Dotted key path -> 1-based line number of its first appearance."""
    lines: dict[str, int] = {}
    table = ""
    arrays: dict[str, int] = {}
    in_multiline = False
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            in_multiline = line.count('"""') % 2 == 0 and line.count("'''") % 2 == 0
            continue
        header = _HEADER.match(line)
        if header and not _KEY.match(line):
            name = ".".join(_parts(header.group(2)))
            if header.group(1) == "[[":
                index = arrays.get(name, 0)
                arrays[name] = index + 1
                name = f"{name}[{index}]"
            table = name
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            path = ".".join(_parts(key.group(1)))
            lines.setdefault(f"{table}.{path}" if table else path, number)
            rest = line[key.end() :]
            in_multiline = rest.count('"""') % 2 == 1 or rest.count("'''") % 2 == 1
    return lines


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of ``path``, or of the closest table or key that contains it."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None
