"""Literal prefilter: which pack entries could possibly match a text, found in one scan.

Why: Python's ``re`` tries every branch of an alternation at every position, so running ~300
pack patterns (or one alternation of them) costs about a millisecond per message — a hundred
times over the budget (>= 10,000 messages/s on one core). Nearly every message matches
nothing. So, as RE2's ``FilteredRE2`` does, each pattern is analysed once for a set of literal
strings of which *every* match must contain at least one ("are you", "snap", "hur gammal"); all
those literals go into one Aho-Corasick automaton that scans the text once; only entries whose
literals occurred are run.

The analysis is conservative: a pattern whose matches need no literal of at least
``MIN_ANCHOR`` characters is reported as ``None`` and is run on every message (kept rare and
cheap: e.g. anchored ``^13$``). It reads the pattern with ``re._parser`` (the parser behind
``re.compile``); if that private module ever changes shape the analysis fails safe, to ``None``.
"""

from __future__ import annotations

from itertools import product

import ahocorasick

try:  # Python 3.11+: the parser and its opcodes
    from re import _constants as _c
    from re import _parser as _p
except ImportError:  # pragma: no cover - older layout; analysis then always falls back
    _c = _p = None  # type: ignore[assignment]

#: Shortest literal worth filtering on; shorter ones occur in almost every message.
MIN_ANCHOR = 3
#: Largest set of alternative strings tracked for one node before giving up on exactness.
_MAX_SET = 512
#: Literal length from which a shorter set of literals is preferred over longer literals.
_GOOD_ENOUGH = 5

# Node summary: (exact, required). ``exact`` is the finite set of strings the node matches (or
# None); ``required`` is an any-of set of substrings every match contains (or None: unknown).
_Info = tuple[frozenset[str] | None, frozenset[str] | None]
_EMPTY: frozenset[str] = frozenset({""})


def _quality(strings: frozenset[str] | None) -> tuple[int, int]:
    """Prefer sets whose shortest member is rare enough (non-space length, capped), then smaller sets.

    The cap matters: beyond ~5 letters a literal is rare anyway, and a small automaton (few
    literals) stays in cache; 36,000 literals made the scan three times slower.
    """
    if not strings:
        return (-1, 0)
    return (min(_GOOD_ENOUGH, *(len(s.replace(" ", "")) for s in strings)), -len(strings))


def _best(*candidates: frozenset[str] | None) -> frozenset[str] | None:
    best: frozenset[str] | None = None
    for cand in candidates:
        if cand and _quality(cand) > _quality(best):
            best = cand
    return best


def _seq(items: list[tuple[object, object]], digits: bool = False) -> _Info:
    """A concatenation: cross exact sets while they stay small; keep the best required set."""
    exact: frozenset[str] | None = _EMPTY
    complete = True
    candidates: list[frozenset[str] | None] = []
    for item in items:
        sub_exact, sub_req = _node(item, digits)
        candidates.append(sub_req)
        candidates.append(sub_exact)  # one part alone may be rarer per literal than the whole
        if exact is not None and sub_exact is not None and len(exact) * len(sub_exact) <= _MAX_SET:
            exact = frozenset(a + b for a, b in product(exact, sub_exact))
            continue
        complete = False
        candidates.append(exact)
        exact = sub_exact
    candidates.append(exact)
    return (exact if complete else None), _best(*candidates)


def _node(item: tuple[object, object], digits: bool = False) -> _Info:
    """Summary of one parse node; with ``digits`` every digit reads as "0" and all else as "".

    The ``digits`` view answers "does every match contain a digit?" for patterns such as
    ``i'm (?P<age>[0-9]+)`` whose only rare part is the number.
    """
    op, av = item
    if op is _c.LITERAL:
        ch = chr(av)  # type: ignore[arg-type]
        if digits:
            return frozenset({"0" if ch.isdigit() else ""}), None
        return frozenset({ch}), None
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        return _EMPTY, None
    if op is _c.IN:
        chars: set[str] = set()
        for sub_op, sub_av in av:  # type: ignore[union-attr]
            if digits:
                is_digit = (sub_op is _c.LITERAL and chr(sub_av).isdigit()) or (
                    sub_op is _c.RANGE and chr(sub_av[0]).isdigit() and chr(sub_av[1]).isdigit()
                ) or (sub_op is _c.CATEGORY and sub_av is _c.CATEGORY_DIGIT)
                chars.add("0" if is_digit else "")
                continue
            if sub_op is _c.LITERAL:
                chars.add(chr(sub_av))
            elif sub_op is _c.CATEGORY and sub_av is _c.CATEGORY_SPACE:
                chars.add(" ")  # normalised text has single spaces only
            else:
                return None, None
        if digits:
            return frozenset(chars), None
        return (frozenset(chars), None) if 0 < len(chars) <= 8 else (None, None)
    if op is _c.SUBPATTERN:
        return _seq(list(av[-1]), digits)  # type: ignore[index]
    if op is _c.BRANCH:
        infos = [_seq(list(alt), digits) for alt in av[1]]  # type: ignore[index]
        if all(e is not None for e, _ in infos):
            union = frozenset().union(*(e for e, _ in infos))  # type: ignore[misc]
            if len(union) <= _MAX_SET:
                return union, None
        reqs = [_best(r, e) for e, r in infos]
        if any(r is None for r in reqs):
            return None, None
        union = frozenset().union(*reqs)  # type: ignore[misc]
        return None, union
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
        lo, hi, sub = av  # type: ignore[misc]
        sub_exact, sub_req = _seq(list(sub), digits)
        if lo == 0:
            if hi == 1 and sub_exact is not None:
                return sub_exact | _EMPTY, None
            return None, None
        if lo == hi == 1:
            return sub_exact, sub_req
        return None, _best(sub_req, sub_exact)
    return None, None


def needs_digit(pattern: str) -> bool:
    """True when every match of ``pattern`` contains a digit (so digit-free texts can skip it)."""
    if _p is None:
        return False
    try:
        exact, req = _seq(list(_p.parse(pattern)), digits=True)
    except Exception:  # noqa: BLE001 - fail safe: "no, run it"
        return False
    return any(group and all("0" in s for s in group) for group in (exact, req))


def required_literals(pattern: str, min_anchor: int = MIN_ANCHOR) -> frozenset[str] | None:
    """Literal strings of which every match of ``pattern`` contains one, or ``None``.

    ``None`` also when the best such set has a member with fewer than ``min_anchor``
    non-space characters (too common to be worth filtering on).
    """
    if _p is None:
        return None
    try:
        exact, req = _seq(list(_p.parse(pattern)))
    except Exception:  # noqa: BLE001 - any surprise in the private parser means "no filter"
        return None
    best = _best(req, exact)
    if best is None or min(len(s.replace(" ", "")) for s in best) < min_anchor:
        return None
    return best


class LiteralScanner:
    """Which of a fixed set of literals occur in a text, overlaps included, in one C-speed scan.

    Aho-Corasick (``pyahocorasick``) rather than a regex: ``re`` has no multi-literal search,
    and a trie-shaped alternation tried at every position cost ~20 µs per message.
    """

    def __init__(self, literals: dict[str, tuple[int, ...]]) -> None:
        self._automaton = ahocorasick.Automaton()
        for literal, ids in literals.items():
            self._automaton.add_word(literal, ids)
        self._empty = not literals
        if not self._empty:
            self._automaton.make_automaton()

    def found(self, text: str) -> set[int]:
        """The union of the ids stored with every literal that occurs in ``text``."""
        out: set[int] = set()
        if self._empty:
            return out
        for _end, ids in self._automaton.iter(text):
            out.update(ids)
        return out
