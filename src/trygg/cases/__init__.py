"""Cases, the review queue, the evidence vault, the audit chain and the delivery outbox.

Start at :class:`trygg.cases.service.CaseService` (docs/cases.md). The tables are in
:mod:`trygg.cases.tables`; import it before ``Base.metadata.create_all``. The names below are
imported on first use, so the ``trygg`` command can register its case commands without loading
SQLAlchemy and the vault's cryptography at every start.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Case": "trygg.cases.cases",
    "CaseError": "trygg.cases.cases",
    "CaseInput": "trygg.cases.cases",
    "CasePolicy": "trygg.cases.cases",
    "CaseService": "trygg.cases.service",
    "EvidenceItem": "trygg.cases.vault",
    "Keyring": "trygg.cases.vault",
    "PermissionDenied": "trygg.cases.permissions",
    "Reviewer": "trygg.cases.permissions",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'trygg.cases' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
