"""The newest action wins: per session, a reading of an older action never replaces a newer one on the page.

    from server.order import ReadingOrder
    order = ReadingOrder(capacity=1000)
    ticket = order.start(session, seq)          # None: an older action than one already started; skip it
    ...                                         # read
    order.is_newest(session, ticket)            # False: a newer reading started meanwhile; skip showing this one
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class ReadingOrder:
    """Per session, the newest action wins; an older one changes nothing on the page.

    The page numbers its actions (a stroke, Undo, Clear, a gallery digit, picking a digit of a number: seq),
    and readings of one session can finish out of order (two run at a time, and the finished drawing has a
    lane of its own). A reading whose seq is older than one already started is dropped before any work;
    each reading also takes a ticket when it starts, and is shown only if no reading of the session started
    after it. Keeps [ticket, newest seq] for the SESSIONS most recent sessions (about 100 bytes each).
    """

    def __init__(self, capacity: int):
        self.capacity, self.lock, self.sessions = capacity, threading.Lock(), OrderedDict()

    def start(self, session: str, seq: int | None = None) -> int | None:
        """-> this reading's ticket, or None if it is of an older action than one already started."""
        with self.lock:
            entry = self.sessions.pop(session, None) or [0, -1]
            self.sessions[session] = entry  # most recent last
            while len(self.sessions) > self.capacity:
                self.sessions.popitem(last=False)
            if seq is not None:
                if seq < entry[1]:
                    return None
                entry[1] = seq
            entry[0] += 1
            return entry[0]

    def is_newest(self, session: str, ticket: int) -> bool:
        with self.lock:
            entry = self.sessions.get(session)
            return entry is None or entry[0] == ticket
