"""The contact graph: connections, an adult's recent contacts with minors, complaints by minors.

The gate needs three facts a single event cannot give: whether two users are already connected,
how many unconnected minors an adult has reached out to lately (fan-out is the commonest pattern
of an adult trawling for children), and how many minors have blocked or reported them. All of it
is per user, bounded, and JSON-friendly, so it travels with the user's age picture through the
store (``Engine.dump_user`` / ``load_user``, under the key ``"contact"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: Connections remembered per user (the oldest forgotten first).
MAX_CONNECTIONS = 5_000
#: Recent contacts with minors kept per adult (enough for any fan-out threshold up to half this).
MAX_RECENT = 200
#: Distinct minors' complaints kept per user.
MAX_COMPLAINTS = 50


@dataclass
class UserContacts:
    """One user's side of the graph."""

    connections: dict[str, None] = field(default_factory=dict)
    #: ``[minor_id, epoch seconds or None]``, oldest first.
    recent_minor_contacts: list[list] = field(default_factory=list)
    #: Minors who blocked or reported this user (distinct ids, oldest first).
    complaints_by_minors: list[str] = field(default_factory=list)
    #: The rule and event that restricted this user, once restricted.
    restricted: dict[str, str] | None = None
    #: Account creation time (epoch seconds) when the platform sent one.
    created_at: float | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        if self.connections:
            out["connections"] = list(self.connections)
        if self.recent_minor_contacts:
            out["recent_minor_contacts"] = [list(x) for x in self.recent_minor_contacts]
        if self.complaints_by_minors:
            out["complaints_by_minors"] = list(self.complaints_by_minors)
        if self.restricted is not None:
            out["restricted"] = dict(self.restricted)
        if self.created_at is not None:
            out["created_at"] = self.created_at
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> UserContacts:
        try:
            created = data.get("created_at")
            restricted = data.get("restricted")
            return cls(
                connections=dict.fromkeys(str(u) for u in data.get("connections", [])),  # type: ignore[union-attr]
                recent_minor_contacts=[[str(u), None if t is None else float(t)] for u, t in data.get("recent_minor_contacts", [])],  # type: ignore[union-attr,misc]
                complaints_by_minors=[str(u) for u in data.get("complaints_by_minors", [])],  # type: ignore[union-attr]
                restricted=None if restricted is None else {str(k): str(v) for k, v in dict(restricted).items()},  # type: ignore[call-overload]
                created_at=None if created is None else float(created),  # type: ignore[arg-type]
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"invalid contact state: {exc}") from None


class ContactGraph(dict[str, UserContacts]):
    """user_id -> :class:`UserContacts`; an unknown user has no connections and no history."""

    def user(self, user_id: str) -> UserContacts:
        entry = self.get(user_id)
        if entry is None:
            entry = self[user_id] = UserContacts()
        return entry

    def connected(self, a: str, b: str) -> bool:
        entry = self.get(a)
        return entry is not None and b in entry.connections

    def connect(self, a: str, b: str) -> None:
        for one, other in ((a, b), (b, a)):
            connections = self.user(one).connections
            connections.pop(other, None)
            connections[other] = None
            if len(connections) > MAX_CONNECTIONS:
                del connections[next(iter(connections))]

    def disconnect(self, a: str, b: str) -> None:
        for one, other in ((a, b), (b, a)):
            entry = self.get(one)
            if entry is not None:
                entry.connections.pop(other, None)

    def note_minor_contact(self, adult: str, minor: str, at: float | None, window_seconds: float) -> int:
        """Record that ``adult`` reached out to unconnected ``minor``; returns the distinct minors
        reached within the window (contacts without a time count as inside it)."""
        recent = self.user(adult).recent_minor_contacts
        recent.append([minor, at])
        del recent[:-MAX_RECENT]
        if at is None:
            return len({m for m, _ in recent})
        return len({m for m, t in recent if t is None or at - window_seconds <= t <= at})

    def note_complaint(self, target: str, minor: str) -> int:
        """A minor blocked or reported ``target``; returns how many distinct minors have."""
        complaints = self.user(target).complaints_by_minors
        if minor not in complaints:
            complaints.append(minor)
            del complaints[:-MAX_COMPLAINTS]
        return len(complaints)

    def restrict(self, user_id: str, rule: str, event_id: str) -> None:
        entry = self.user(user_id)
        if entry.restricted is None:
            entry.restricted = {"rule": rule, "event_id": event_id}

    def restriction(self, user_id: str) -> dict[str, str] | None:
        entry = self.get(user_id)
        return entry.restricted if entry is not None else None

    def dump(self, user_id: str) -> dict[str, object]:
        entry = self.get(user_id)
        return entry.to_dict() if entry is not None else {}

    def load(self, user_id: str, data: Mapping[str, object]) -> None:
        self[user_id] = UserContacts.from_dict(data)
