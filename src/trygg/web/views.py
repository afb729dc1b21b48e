"""Pure helpers that turn stored facts into what a page shows: age pictures and highlighted text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from trygg.age.picture import AgePicture


def age_view(picture: AgePicture | Mapping[str, Any]) -> dict[str, Any]:
    """An age picture as shown to a reviewer: the stored facts and what they add up to."""
    pic = picture if isinstance(picture, AgePicture) else AgePicture.from_dict(picture)
    return {
        **pic.to_dict(),
        "p_minor": round(pic.p_minor, 3),
        "p_adult": round(pic.p_adult, 3),
        "likely_minor": pic.likely_minor,
        "likely_adult": pic.likely_adult,
        "best_age_estimate": pic.best_age_estimate,
    }


@dataclass(frozen=True)
class Segment:
    """A run of a message's text; ``signals`` names what fired on it (empty: not evidence)."""

    text: str
    signals: tuple[str, ...] = ()


def highlight(text: str, reasons: Iterable[Mapping[str, Any]]) -> list[Segment]:
    """Cut ``text`` at the reasons' spans (character offsets into the original text).

    Overlapping spans are merged, each run names every signal over it; spans outside the text
    are clipped, so a span from a longer original never breaks the page.
    """
    marks: list[tuple[int, int, str]] = []
    for reason in reasons:
        span = reason.get("span")
        if not isinstance(span, (list, tuple)) or len(span) != 2:
            continue
        start, end = max(0, int(span[0])), min(len(text), int(span[1]))
        if start < end:
            marks.append((start, end, str(reason.get("signal"))))
    cuts = sorted({0, len(text), *(m[0] for m in marks), *(m[1] for m in marks)})
    segments = []
    for left, right in zip(cuts, cuts[1:]):
        names = tuple(dict.fromkeys(name for start, end, name in marks if start <= left and right <= end))
        if segments and segments[-1].signals == names:
            segments[-1] = Segment(segments[-1].text + text[left:right], names)
        else:
            segments.append(Segment(text[left:right], names))
    return segments


def age_pictures(store: Any, engine: Any, lock: Any, user_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Age pictures of these users: the engine's live ones, else the stored ones, else blank."""
    wanted = list(dict.fromkeys(user_ids))
    with lock:
        live = {uid: engine.ages[uid] for uid in wanted if uid in engine.ages}
    missing = [uid for uid in wanted if uid not in live]
    stored = store.load_users(missing) if missing else {}
    return {uid: age_view(live.get(uid) or stored.get(uid) or {"user_id": uid}) for uid in wanted}
