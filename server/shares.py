"""Counting what a key (an address, a session) holds: token buckets for rates, and the events a key has on its
way through Gradio's queue. Bookkeeping only; addresses.py and sessions.py decide what is allowed.

Check and count happen with no await between them, so requests arriving together are counted one by one.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from server.gradio_internals import GradioInternals, QueuedEvent


class TokenBuckets:
    """A token bucket per key: `rate` tokens a second, at most `burst` kept."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.levels: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: str, tokens: float = 1) -> float:
        """Take `tokens` -> 0 if they were there, else the seconds until they will be (nothing is taken)."""
        now = self.clock()
        level, then = self.levels.get(key, (self.burst, now))
        level = min(self.burst, level + (now - then) * self.rate)
        if level < tokens:
            self.levels[key] = (level, now)
            return (tokens - level) / self.rate if self.rate else float("inf")
        self.levels[key] = (level - tokens, now)
        return 0.0

    def sweep(self) -> None:
        """Forget the buckets that have filled up again (they are what a new key gets)."""
        now = self.clock()
        for key, (tokens, then) in list(self.levels.items()):
            if tokens + (now - then) * self.rate >= self.burst:
                del self.levels[key]


class QueueShares:
    """How many events each key has on its way: requests being handled, plus the events they queued while
    Gradio's queue holds them (waiting, running, or with a result not yet delivered; an undelivered result
    counts for at most `undelivered_for` seconds after it was queued, None: until it is delivered or its stream
    drops)."""

    def __init__(self, gradio: GradioInternals | None, undelivered_for: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.gradio, self.undelivered_for, self.clock = gradio, undelivered_for, clock
        self.handling: Counter[str] = Counter()  # key -> requests being handled
        self.queued: dict[str, list[tuple[QueuedEvent, float]]] = {}  # key -> (event, when it was queued)

    def holds(self, event: QueuedEvent, since: float) -> bool:
        if self.gradio is None:
            return False
        if self.gradio.running(event):
            return True
        recent = self.undelivered_for is None or self.clock() - since < self.undelivered_for
        return recent and self.gradio.undelivered(event)

    def count(self, key: str) -> int:
        events = self.queued.get(key)
        if events:
            events[:] = [entry for entry in events if self.holds(*entry)]  # finished ones forgotten here
            if not events:
                del self.queued[key]
        return self.handling[key] + len(self.queued.get(key, ()))

    def start(self, key: str) -> None:
        self.handling[key] += 1

    def finish(self, key: str, event: QueuedEvent | None = None) -> None:
        """The request is answered; the event it queued, if any and still held, counts in its place."""
        self.handling[key] -= 1
        if self.handling[key] <= 0:
            del self.handling[key]
        if event is not None and self.holds(event, self.clock()):
            self.queued.setdefault(key, []).append((event, self.clock()))

    def sweep(self) -> None:
        for key in list(self.queued):
            self.count(key)
