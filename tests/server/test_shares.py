"""The bookkeeping the limits count with: token buckets, and the events a key has on its way through Gradio's
queue (pytest, CPU; a fake clock and a fake queue)."""

from __future__ import annotations

from server.gradio_internals import QueuedEvent
from server.shares import QueueShares, TokenBuckets


def test_shares_count_requests_then_their_events_and_forget_them():
    now = [0.0]

    class Queue:
        running_ids, undelivered_ids = set(), set()

        def running(self, event):
            return event.event_id in self.running_ids

        def undelivered(self, event):
            return event.event_id in self.undelivered_ids

    queue = Queue()
    shares = QueueShares(queue, undelivered_for=60, clock=lambda: now[0])
    shares.start("a")
    shares.start("a")
    assert shares.count("a") == 2  # counted while handled, before anything is queued
    queue.running_ids |= {"e1", "e2"}
    shares.finish("a", QueuedEvent("e1", "s", None))
    shares.finish("a", QueuedEvent("e2", "s", None))
    assert shares.count("a") == 2  # now as queued events
    queue.running_ids -= {"e1", "e2"}
    queue.undelivered_ids |= {"e1"}
    assert shares.count("a") == 1  # e2 delivered; e1 waits to be read
    now[0] = 61
    assert shares.count("a") == 0 and not shares.queued  # unread for a minute: no longer held against "a"


def test_buckets_give_tokens_at_their_rate_and_forget_full_ones():
    now = [0.0]
    buckets = TokenBuckets(rate=2, burst=3, clock=lambda: now[0])
    assert [buckets.take("x") for _ in range(4)] == [0, 0, 0, 0.5]
    now[0] += 0.5
    assert buckets.take("x") == 0 and buckets.take("y") == 0
    assert buckets.take("z", 3) == 0 and buckets.take("z", 2) == 1.0  # several at once; nothing taken when short
    now[0] += 10
    buckets.sweep()
    assert buckets.levels == {}
