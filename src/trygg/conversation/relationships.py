"""What the platform knows about who knows whom (event format v1.1, ``relationship`` events).

Why: the costliest false alarms are families. A grandmother who sends money, asks for a photo
in the new clothes and says "don't tell mum it was extra" uses the words of solicitation and
secrecy. Platforms often know better than any text: TikTok, Snapchat and Instagram keep
family-pairing links (a parent's account supervising a teen's), and many know a guardian,
classmates or mutual friends. A known link lowers the risk of *ordinary* cues (money, a photo
request, a secret about a present) between the two; it never hides a threat, sextortion or
solicitation (:mod:`trygg.conversation.severe`), because abuse happens in families too.

How much a link lowers (:data:`FAMILIARITY`, 0..1): parents, guardians and family-pairing
links fully; other family a little less; mutual friends a little. Teachers and coaches not at
all: the platform knowing the role says who they are, not that secrecy or a meeting alone with
a child is harmless, and positions of trust are where much grooming starts.

Kept per user (``for_user`` / ``load_user``), so a store persists links with the user's age
picture and a resumed scan still knows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class _UserConnections(Protocol):
    connections: Mapping[str, None]


class ConnectionsLike(Protocol):
    """What :meth:`RelationshipBook.stranger` reads: a user's platform contacts, or None."""

    def get(self, user_id: str, /) -> _UserConnections | None: ...

#: Relationship kinds a platform may send, and how far each lowers ordinary cues.
FAMILIARITY: dict[str, float] = {
    "parent": 1.0,
    "guardian": 1.0,
    "family_pairing": 1.0,
    "family": 0.8,
    "mutual_friends": 0.3,
    "teacher": 0.0,
    "coach": 0.0,
}
RELATIONSHIP_KINDS: tuple[str, ...] = tuple(FAMILIARITY)
#: Links kept per user (the oldest forgotten first): bounded state.
MAX_LINKS_PER_USER = 64


class RelationshipBook:
    """Symmetric links between users: ``record(a, b, kind)``; ``familiarity(a, b) -> 0..1``;
    ``stranger(a, b)``: whether the platform's own contact list shows ``a`` is not one of ``b``'s.

    ``connections`` is the platform's contact graph (``connection`` events, kept by
    :class:`trygg.contact.graph.ContactGraph` for the contact gate), read here, never copied.
    """

    def __init__(self, connections: ConnectionsLike | None = None) -> None:
        self._links: dict[str, dict[str, set[str]]] = {}
        self._connections = connections

    def record(self, user_id: str, other_id: str, kind: str, ended: bool = False) -> bool:
        """Add (or, with ``ended``, remove) one link; returns whether anything changed."""
        if kind not in FAMILIARITY:
            raise ValueError(f"unknown relationship {kind!r}; expected one of {', '.join(RELATIONSHIP_KINDS)}")
        if user_id == other_id:
            raise ValueError("a relationship needs two different users")
        changed = False
        for a, b in ((user_id, other_id), (other_id, user_id)):
            links = self._links.setdefault(a, {})
            kinds = links.get(b)
            if ended:
                if kinds and kind in kinds:
                    kinds.discard(kind)
                    if not kinds:
                        del links[b]
                    changed = True
                continue
            if kinds is None:
                kinds = links[b] = set()
                if len(links) > MAX_LINKS_PER_USER:
                    del links[next(iter(links))]
            if kind not in kinds:
                kinds.add(kind)
                changed = True
        return changed

    def kinds(self, user_id: str, other_id: str) -> frozenset[str]:
        return frozenset(self._links.get(user_id, {}).get(other_id, ()))

    def stranger(self, user_id: str, other_id: str) -> bool:
        """Whether ``user_id`` writes to ``other_id`` from outside their contacts, as far as the
        platform has said: it has sent connections of ``other_id`` and ``user_id`` is not among
        them, nor linked to them otherwise. A platform that sends no ``connection`` events says
        nothing, so nobody is a stranger by it (absence of a link is no evidence there)."""
        if self._connections is None or self._links.get(user_id, {}).get(other_id):
            return False
        theirs = self._connections.get(other_id)
        return theirs is not None and bool(theirs.connections) and user_id not in theirs.connections

    def familiarity(self, user_id: str, other_id: str) -> float:
        """How far the pair's known links lower ordinary cues (0 when none is known)."""
        kinds = self._links.get(user_id, {}).get(other_id)
        if not kinds:
            return 0.0
        return max(FAMILIARITY[k] for k in kinds)

    def for_user(self, user_id: str) -> dict[str, list[str]]:
        """The user's links as JSON (``other_id -> kinds``), for storing with the user."""
        return {other: sorted(kinds) for other, kinds in self._links.get(user_id, {}).items()}

    def load_user(self, user_id: str, data: Mapping[str, object]) -> None:
        """Restore links stored by :meth:`for_user`; unknown kinds are a precise error."""
        for other, kinds in data.items():
            if not isinstance(kinds, list):
                raise ValueError(f"relationships of {user_id!r}: {other!r} must map to a list of kinds")
            for kind in kinds:
                self.record(user_id, str(other), str(kind))
