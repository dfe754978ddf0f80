"""Everything the guards read or change of Gradio 6.31's private state, in one place: its queue
(gradio/queueing.py, gradio/routes.py) and its session store (gradio/state_holder.py). No public API says which
events are still waiting or running, which sessions have a result stream, or lets one session's state go.

    gradio = GradioInternals(demo)   # the gr.Blocks; server/middleware.py makes one
"""

from __future__ import annotations

from typing import NamedTuple


class QueuedEvent(NamedTuple):
    event_id: str
    session: str
    messages: object  # the session's message queue when the event was queued (None: it had none)


class GradioInternals:
    def __init__(self, blocks):
        self.blocks = blocks

    # --- the queue ----------------------------------------------------------------------------------------

    def queued(self, event_id: str, session: str) -> QueuedEvent:
        """An event just queued, with the message queue its result will wait in."""
        return QueuedEvent(event_id, session, self.blocks._queue.pending_messages_per_session.get(session))

    def running(self, event: QueuedEvent) -> bool:
        """Whether the event is waiting or running: Gradio drops it from event_ids_to_events when it finishes,
        fails or is cancelled, and when its client's stream drops before it starts."""
        return event.event_id in self.blocks._queue.event_ids_to_events

    def undelivered(self, event: QueuedEvent) -> bool:
        """Whether the event's result still waits for its session's stream: in the session's message queue, its
        id in pending_event_ids_session until a stream delivers it. When a stream drops, Gradio deletes the
        session's message queue (results and all) but keeps the ids, and its own per-session count, which
        reads the ids, then locks the session out for good; a join after the drop makes a new message queue.
        So an event counts only while the message queue it was queued with is still the session's."""
        queue = self.blocks._queue
        return (queue.pending_messages_per_session.get(event.session) is event.messages
                and event.event_id in queue.pending_event_ids_session.get(event.session, ()))

    def busy(self, session: str) -> bool:
        """Whether any event of the session is waiting or running."""
        return any(event.session_hash == session for event in list(self.blocks._queue.event_ids_to_events.values()))

    def busy_sessions(self) -> set[str]:
        """The sessions with an event waiting or running (busy() for all of them at once)."""
        return {event.session_hash for event in list(self.blocks._queue.event_ids_to_events.values())}

    def messages_of(self, session: str) -> object:
        return self.blocks._queue.pending_messages_per_session.get(session)

    async def drop(self, session: str, messages: object) -> None:
        """The session's client left its result stream: do what Gradio does when it notices that by a cancelled
        stream, and also when it notices by request.is_disconnected(), where it forgets to (gradio/routes.py,
        queue_data_helper): stop the session's events (clean_events), delete its message queue with the results
        nobody will read (else they stay in memory, up to 2,000 sessions' worth), and its ids (else Gradio's
        per-session count never falls). Not if an event of the session joined since (its results go there)."""
        queue = self.blocks._queue
        await queue.clean_events(session_hash=session)
        if any(event.session_hash == session and event.alive for event in list(queue.event_ids_to_events.values())):
            return
        if queue.pending_messages_per_session.get(session) is messages:
            queue.pending_messages_per_session.pop(session, None)
            queue.pending_event_ids_session.pop(session, None)

    def forget_orphans(self) -> None:
        """Gradio keeps a session's event ids (pending_event_ids_session, a plain dict) after the LRU cache of
        2,000 message queues has dropped the session's queue, so the ids can never be delivered: one entry
        for every session that joined and never read its results. Drop those."""
        queue = self.blocks._queue
        live = {event.session_hash for event in list(queue.event_ids_to_events.values())}
        for session in list(queue.pending_event_ids_session):
            if session not in queue.pending_messages_per_session and session not in live:
                queue.pending_event_ids_session.pop(session, None)

    def streams(self, session: str) -> bool:
        """Whether GET /queue/data?session_hash=<session> has anything to stream (else Gradio raises 404 inside
        the stream it already started: a 79-line traceback in the log)."""
        return session in self.blocks._queue.pending_messages_per_session

    def session_of_event(self, event_id: str) -> str:
        """The session whose stream GET /call/<name>/<event_id> reads, found as routes.simple_predict_get does."""
        queue = self.blocks._queue
        event = queue.event_ids_to_events.get(event_id)
        if event is not None:
            return event.session_hash
        return next((s for s, ids in list(queue.pending_event_ids_session.items()) if event_id in ids), event_id)

    # --- the app's events --------------------------------------------------------------------------------

    def inputs_of(self, fn_index: object, api_name: str | None) -> tuple[list, list[str]] | None:
        """The input components of the event a join (fn_index) or a call (api_name) names, and their names as
        the API page gives them; None for no such event (Gradio answers that). Read from blocks.fns, not as
        route_utils.get_fn does from the session's state, which it would create for any session_hash."""
        fns = self.blocks.fns
        if api_name is not None:
            fn = next((fn for fn in fns.values() if fn.api_name == api_name), None)
        else:
            fn = fns.get(fn_index) if isinstance(fn_index, int) and not isinstance(fn_index, bool) else None
        if fn is None:
            return None
        names = list(fn.input_parameter_names or ())
        return list(fn.inputs), names + [f"parameter_{i}" for i in range(len(names), len(fn.inputs))]

    # --- the session store --------------------------------------------------------------------------------

    def has_state(self, session: str) -> bool:
        """Whether Gradio keeps state for the session (its components' config and values, ~110 KB)."""
        return session in self.blocks.state_holder.session_data

    def forget_state(self, session: str) -> None:
        """Drop the session's state from Gradio's store, as its own LRU does when the store is full."""
        holder = self.blocks.state_holder
        with holder.lock:
            holder.session_data.pop(session, None)
            holder.time_last_used.pop(session, None)
