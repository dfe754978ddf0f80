"""What the server writes to its log: one line per refused or failed request, within a budget, and a whole
traceback only for an error nobody expected.

    log.install()                 # demo.launch() calls it; python demo.py, the tests and Spaces alike
    log.line("refused 429 ...")   # one line, if the budget allows (server/middleware.py)

Gradio 6.31 prints a traceback for every error an event raises: 25-28 lines for a gr.Error, which is this
app telling a person what was wrong with their input ("Could not read that drawing: ..."), and 37 for input
a component cannot preprocess (garbage sent to the API); measured on 3296d02, 300 bad drawings wrote 18,516
lines. install() gives gradio.queueing and gradio.routes, which print those through their module's
`traceback`, a Policy instead: for an error that is the request's fault it writes one line (the person was
told; the log needs only that it happened), and any other error goes out whole. Every other logger goes
through the same budgets: uvicorn's one-line warnings ("Invalid HTTP request received.", one per malformed
request), asyncio's (its accept loop once logged 220,646 tracebacks in 21 s when descriptors ran out), and
whatever reaches the root logger's handlers or Python's last-resort handler; python-multipart's warnings are
dropped (server/bodies.py refuses a malformed form first, in a line that says why). Lines share one budget
(LINES_PER_SECOND, LINE_BURST), tracebacks another; past a budget entries are counted, not written, and the
next entry written says how many were left out, so a flood cannot fill the disk and a real bug still shows.
Importing this module changes nothing; install() does, once per process.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from typing import TextIO

LINES_PER_SECOND, LINE_BURST = 2.0, 40  # a refusal flood of 160 a second writes about 2 lines a second
TRACEBACKS_PER_MINUTE, TRACEBACK_BURST = 6.0, 10  # a real bug shows its first 10 tracebacks whole
MAX_LINE = 300  # characters of a message kept in its one line


class Budget:
    """A token bucket of log entries: write() writes while tokens last and counts what it leaves out."""

    def __init__(self, per_second: float, burst: float, stream: TextIO | None = None, clock=time.monotonic):
        self.per_second, self.burst, self.stream, self.clock = per_second, burst, stream, clock
        self.tokens, self.last, self.left_out = float(burst), clock(), 0

    def allows(self) -> bool:
        """Take one entry's token -> whether the entry may be written (if not, it is counted as left out)."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.per_second)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.left_out += 1
        return False

    def note(self) -> str:
        """' (N more not logged)' once after entries were left out, else ''."""
        note, self.left_out = (f" ({self.left_out:,} more like it not logged)" if self.left_out else ""), 0
        return note

    def write(self, text: str) -> bool:
        """One entry (one line, or a whole traceback) -> whether it was written."""
        if not self.allows():
            return False
        stream = self.stream or sys.stderr  # looked up now, so a replaced stderr (pytest) is the one used
        stream.write(text.rstrip("\n") + self.note() + "\n")
        stream.flush()
        return True


lines = Budget(LINES_PER_SECOND, LINE_BURST)
tracebacks = Budget(TRACEBACKS_PER_MINUTE / 60, TRACEBACK_BURST)


def line(text: str) -> bool:
    """Log one line (no newlines kept, at most MAX_LINE characters), within the line budget."""
    text = " ".join(text.split())
    return lines.write(text if len(text) <= MAX_LINE else text[: MAX_LINE - 3] + "...")


def client_fault(error: BaseException | None) -> str | None:
    """-> what a request did wrong, when this error is the request's fault; None when it is the server's.

    gr.Error is raised by the app to tell a person what was wrong (its message reaches them); Gradio wraps an
    input a component cannot preprocess in ComponentProcessingError("Could not preprocess input ...") and
    says "didn't receive enough input values" for a short data list. Errors in postprocessing (our outputs)
    and everything else are the server's.
    """
    from gradio.exceptions import ComponentProcessingError, Error

    if isinstance(error, Error):
        return "user error"
    message = str(error)
    if isinstance(error, ComponentProcessingError) and message.startswith("Could not preprocess"):
        return "unreadable input"
    if isinstance(error, ValueError) and "didn't receive enough input values" in message:
        return "missing inputs"
    return None


class Policy:
    """Stands in for the `traceback` module inside gradio.queueing and gradio.routes (see install())."""

    def print_exc(self, limit=None, file=None, chain=True) -> None:
        error = sys.exc_info()[1]
        fault = client_fault(error)
        if fault is None:
            if tracebacks.allows():
                (file or sys.stderr).write("".join(traceback.format_exc(limit=limit, chain=chain)).rstrip("\n")
                                           + tracebacks.note() + "\n")
            return
        first = str(getattr(error, "message", None) or error).strip().splitlines() or [""]
        line(f"{fault}: {first[0]}")

    def __getattr__(self, name: str):
        return getattr(traceback, name)  # everything else as the real module does it


class Budgeted(logging.Filter):
    """A logger's or handler's records through the budgets: a record with a traceback takes a traceback's token,
    any other a line's. A record is judged once, however many filters it passes (a logger's, then a handler's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "budgeted"):
            record.budgeted = (tracebacks if record.exc_info else lines).allows()
        return record.budgeted


class Dropped(logging.Filter):
    """python-multipart warns about each malformed form it parses ("Expected boundary character ..."); the only
    parser that sees a malformed form is server/bodies.FileCounter's, which refuses it with a line that says
    why."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


# Loggers whose records are budgeted where they are logged (uvicorn's have handlers of their own, made when the
# server starts, so a filter on the logger is the one that stays); everything that propagates to the root
# logger is budgeted at its handlers and at Python's last-resort handler (no handler configured: asyncio's, ...).
BUDGETED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "asyncio")


def _add(filterer: logging.Filterer, kind: type[logging.Filter]) -> None:
    if not any(isinstance(f, kind) for f in filterer.filters):
        filterer.addFilter(kind())


def install() -> None:
    """Apply the policy to this process's Gradio, uvicorn and loggers (idempotent)."""
    import gradio.queueing
    import gradio.routes

    for module in (gradio.queueing, gradio.routes):
        if not isinstance(module.traceback, Policy):
            module.traceback = Policy()
    for name in BUDGETED_LOGGERS:
        _add(logging.getLogger(name), Budgeted)
    for handler in [*logging.getLogger().handlers, logging.lastResort]:
        if handler is not None:
            _add(handler, Budgeted)
    _add(logging.getLogger("python_multipart.multipart"), Dropped)
