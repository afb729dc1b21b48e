"""Ads shown to minors: no profiling-based targeting, no blocked categories, ratings per band.

DSA Art. 28(2) forbids ads based on profiling to a recipient the platform is aware, with
reasonable certainty, is a minor; the categories and ratings go further, as the Commission's
2025 guidelines on the protection of minors recommend. One function of (age reading, policy,
event) -> findings; every finding names the rule that made it.
"""

from __future__ import annotations

from trygg.age.assurance import AgeReading
from trygg.policy.protection import Protection

Finding = tuple[tuple[str, ...], dict[str, object]]


def profiling_keys(targeting: list[str], contextual: tuple[str, ...]) -> list[str]:
    """Targeting keys that are profiling (anything not contextual by the policy's prefixes)."""
    return [key for key in targeting if not key.startswith(contextual)]


def decide_ad(reading: AgeReading, protection: Protection, event: object) -> list[Finding]:
    """Findings for one ad about to be shown to a user read as ``reading``."""
    ads = protection.ads
    event_id: str = event.event_id  # type: ignore[attr-defined]
    base: dict[str, object] = {"event_id": event_id, "ad_id": event.ad_id, "user": reading.as_reason()}  # type: ignore[attr-defined]
    findings: list[Finding] = []
    if reading.minor:
        blocked = sorted(set(event.categories) & ads.blocked_categories_for_minors)  # type: ignore[attr-defined]
        if blocked:
            findings.append((("block",), {"signal": "ad_category_blocked", "rule": "ads.blocked_categories_for_minors", "value": blocked, **base}))
        profiling = profiling_keys(list(event.targeting), ads.contextual_targeting)  # type: ignore[attr-defined]
        if profiling:
            if ads.profiling_for_minors == "refuse":
                findings.append((("block",), {"signal": "ad_profiling_refused", "rule": "ads.profiling_for_minors", "value": profiling, **base}))
            else:
                findings.append(((), {"signal": "ad_targeting_dropped", "rule": "ads.profiling_for_minors", "value": profiling, **base}))
    rating = event.__dict__.get("rating")  # type: ignore[attr-defined]
    allowed = protection.allowed_ratings(reading.effective_band)
    if rating is not None and allowed is not None and rating not in allowed:
        findings.append(
            (("block",), {"signal": "ad_rating_not_allowed", "rule": f"content_ratings.{reading.effective_band}", "value": rating, "allowed": sorted(allowed), **base})
        )
    return findings
