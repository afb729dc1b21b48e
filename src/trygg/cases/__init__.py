"""Cases, the review queue, the evidence vault, the audit chain and the delivery outbox.

Start at :class:`trygg.cases.service.CaseService` (docs/cases.md). The tables are in
:mod:`trygg.cases.tables`; import it before ``Base.metadata.create_all``.
"""

from trygg.cases.cases import Case, CaseError, CaseInput, CasePolicy
from trygg.cases.permissions import PermissionDenied, Reviewer
from trygg.cases.service import CaseService
from trygg.cases.vault import EvidenceItem, Keyring

__all__ = ["Case", "CaseError", "CaseInput", "CasePolicy", "CaseService", "EvidenceItem", "Keyring", "PermissionDenied", "Reviewer"]
