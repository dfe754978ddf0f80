"""Per session: the events one page may have on its way, and which address made each session Gradio keeps.

Events. At most Settings.per_session (8) waiting, running or with a result not yet read; a result nobody reads
counts until it is read or its stream drops, so a client that never reads keeps at most 8 in memory.

Sessions one address cannot evict. Gradio keeps state for SESSIONS sessions and drops the least recently used
past that, whoever made them; it makes a session's state for any session_hash an event names. Here every
session an event makes is charged to the address that sent it, and an address holds at most
Settings.per_address_sessions of them: a new one past that drops the address's own least recently used idle
session (never one with an event on its way, never another address's). So a flood from one address evicts only
its own sessions. (Routes that made state without an event, /component_server and /deep_link, are refused:
routes.py.) Sessions from this machine (exempt) are not charged.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from server.gradio_internals import GradioInternals, QueuedEvent
from server.replies import Refusal
from server.settings import Settings
from server.shares import QueueShares


def session_of(value: object) -> str:
    """The session_hash a join or call body names ('' if none)."""
    session = value.get("session_hash") if isinstance(value, dict) else None
    return session if isinstance(session, str) else ""


class SessionOwners:
    """address -> its sessions, least recently used first. busy(session): whether it has anything on its way
    (never dropped); drop(session): make Gradio forget it."""

    def __init__(self, share: int, busy: Callable[[str], bool], drop: Callable[[str], None]):
        self.share, self.busy, self.drop = share, busy, drop
        self.by_address: dict[str, OrderedDict[str, None]] = {}
        self.owner: dict[str, str] = {}

    def use(self, session: str, address: str) -> None:
        """An event of `session` from `address`: charge a new session to the address, dropping its own least
        recently used idle session past its share; a 429 when all its sessions are busy."""
        owner = self.owner.get(session)
        if owner is not None:
            self.by_address[owner].move_to_end(session)
            return
        sessions = self.by_address.setdefault(address, OrderedDict())
        if self.share and len(sessions) >= self.share:
            idle = next((s for s in sessions if not self.busy(s)), None)
            if idle is None:
                raise Refusal(429, f"Your address already has {self.share} pages with requests waiting; try again "
                                   "when they are answered.")
            self.forget(idle)
            self.drop(idle)
        sessions[session] = None
        self.owner[session] = address

    def forget(self, session: str) -> None:
        address = self.owner.pop(session, None)
        if address is not None:
            sessions = self.by_address[address]
            sessions.pop(session, None)
            if not sessions:
                del self.by_address[address]

    def count(self, address: str) -> int:
        return len(self.by_address.get(address, ()))


class SessionLimits:
    def __init__(self, settings: Settings, gradio: GradioInternals | None,
                 clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.gradio = gradio
        self.events = QueueShares(gradio, None, clock)
        self.owners = SessionOwners(settings.per_address_sessions, self.busy,
                                    gradio.forget_state if gradio is not None else lambda session: None)

    def busy(self, session: str) -> bool:
        """A request of the session is being handled, or an event of it is on its way."""
        return self.events.count(session) > 0 or (self.gradio is not None and self.gradio.busy(session))

    def start_event(self, session: str, address: str | None) -> None:
        """A request naming `session` (address None: exempt, not charged), counted until finish_event."""
        cap = self.settings.per_session
        if self.events.count(session) >= cap:
            raise Refusal(429, f"This page already has {cap} requests waiting; try again when they are answered.")
        if address is not None:
            self.owners.use(session, address)
        self.events.start(session)

    def finish_event(self, session: str, event: QueuedEvent | None = None) -> None:
        self.events.finish(session, event)

    def charge(self, session: str, address: str) -> None:
        """A session Gradio named after the fact (an event sent without one gets a session named by its id)."""
        try:
            self.owners.use(session, address)
        except Refusal:
            pass  # its event is already queued; it is charged when the address next has an idle session

    def sweep(self) -> None:
        """Forget finished events, and sessions Gradio no longer keeps (its own LRU dropped them) that have
        nothing on its way."""
        self.events.sweep()
        if self.gradio is not None:
            busy = self.gradio.busy_sessions()  # once, not per session: thousands of sessions, 256 events
            for session in list(self.owners.owner):
                if session not in busy and not self.gradio.has_state(session) and self.events.count(session) == 0:
                    self.owners.forget(session)
