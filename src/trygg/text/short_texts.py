"""One bounded cache for functions of a short chat text, shared by every stage that has one.

Short messages ("ok", "haha", "hur gammal e du", "where are you?") repeat verbatim in chat: a
third of the Perverted Justice messages and a sixth of NPS chat are repeats of an earlier text
of at most :data:`SHORT_TEXT_CHARS` characters. Normalisation, language evidence, signal
matches and the model's text logit are pure functions of their text, so each keeps its answers
for short texts in a bounded cache. Longer texts seldom repeat and would only churn it, so they
are always computed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

T = TypeVar("T")

#: Texts up to this long are cached; longer ones are computed every time.
SHORT_TEXT_CHARS = 64


def cached_for_short_texts(function: Callable[[str], T], maxsize: int) -> Callable[[str], T]:
    """``function`` with its answers for short texts kept in an LRU cache of ``maxsize``.

    The answers are shared between callers, so they must be immutable (or treated as such).
    The returned function has the cache's ``cache_info`` and ``cache_clear``.
    """
    cached = lru_cache(maxsize=maxsize)(function)

    def call(text: str) -> T:
        return cached(text) if len(text) <= SHORT_TEXT_CHARS else function(text)

    wrapper: Any = call
    wrapper.cache_info = cached.cache_info
    wrapper.cache_clear = cached.cache_clear
    return call
