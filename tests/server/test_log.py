"""The log: one line for each refusal and for each error that is the request's fault, a whole traceback only
for an error nobody expected, and every logger (uvicorn's, asyncio's, whatever reaches Python's last-resort
handler) within one budget (pytest, CPU; `python demo.py` as users run it, its output counted, and the
policy alone on a fake clock)."""

from __future__ import annotations

import io
import logging

import httpx
import pytest

from harness import log_lines
from server import log
from server.settings import MAX_JSON_BYTES


def test_a_stream_for_an_unknown_session_writes_nothing(served):
    server, process = served
    before = len(log_lines(process))
    statuses = {httpx.get(f"{server}/gradio_api/queue/data", params={"session_hash": f"nobody-{i}"}).status_code
                for i in range(50)}
    statuses |= {httpx.get(f"{server}/gradio_api/call/predict_strokes/no-such-event").status_code}
    assert statuses == {404}
    assert log_lines(process)[before:] == []


def test_expected_user_errors_are_one_line_each_without_a_traceback(served):
    """A bad drawing, a GIF before any digit, an unreadable image: the person gets the sentence; the log one line."""
    from gradio_client import Client, handle_file

    server, process = served
    client = Client(server, verbose=False, ssl_verify=False)
    before = len(log_lines(process))
    with pytest.raises(Exception, match="Could not read that drawing"):
        client.predict("not json", False, api_name="/predict_strokes")
    with pytest.raises(Exception, match="Draw a digit first"):
        client.predict({"width": 280, "height": 280, "strokes": []}, api_name="/row_walk_gif")
    path = process.log.with_suffix(".png")
    path.write_bytes(b"not an image")
    try:
        with pytest.raises(Exception, match="Could not read that image"):
            client.predict(handle_file(str(path)), False, api_name="/predict_image")
    finally:
        path.unlink()
    new = log_lines(process)[before:]
    assert len(new) <= 3 and not any("Traceback" in line for line in new), new


def test_the_log_stays_bounded_under_a_flood_of_refusals(served):
    server, process = served
    before = len(log_lines(process))
    with httpx.Client() as http:
        codes = {http.post(f"{server}/gradio_api/queue/join", content=b"x" * (MAX_JSON_BYTES + 1)).status_code
                 for _ in range(300)}
    assert codes == {413}
    new = log_lines(process)[before:]
    budget = log.LINE_BURST + log.LINES_PER_SECOND * 30 + 1  # the flood takes well under 30 s
    assert 1 <= len(new) <= budget and all(line.startswith("refused 413") for line in new)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def budgets(monkeypatch):
    """Fresh budgets on a fake clock, writing to a buffer."""
    clock, out = Clock(), io.StringIO()
    monkeypatch.setattr(log, "lines", log.Budget(log.LINES_PER_SECOND, log.LINE_BURST, out, clock))
    monkeypatch.setattr(log, "tracebacks", log.Budget(log.TRACEBACKS_PER_MINUTE / 60, log.TRACEBACK_BURST, out, clock))
    return clock, out


def test_an_unexpected_error_is_logged_whole_and_a_user_error_in_one_line(budgets):
    import gradio as gr

    _, out = budgets
    policy, traceback_out = log.Policy(), io.StringIO()
    try:
        raise RuntimeError("a bug in the server")
    except RuntimeError:
        policy.print_exc(file=traceback_out)
    assert traceback_out.getvalue().startswith("Traceback") and "a bug in the server" in traceback_out.getvalue()
    assert traceback_out.getvalue().count("\n") >= 3
    try:
        raise gr.Error("Could not read that drawing: too many points")
    except gr.Error:
        policy.print_exc()
    assert out.getvalue() == "user error: Could not read that drawing: too many points\n"


def test_every_logger_is_within_the_budgets(budgets):
    """asyncio's accept loop, out of descriptors, once logged 220,646 tracebacks in 21 s: asyncio's records, and
    whatever reaches Python's last-resort handler, take the same tokens as everything else."""
    clock, _ = budgets
    log.install()
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.addFilter(log.Budgeted())  # as install() does for the root logger's handlers
    asyncio_logger = logging.getLogger("asyncio")
    asyncio_logger.addHandler(handler)
    asyncio_logger.propagate = False
    try:
        for _ in range(1000):
            try:
                raise OSError(24, "Too many open files")
            except OSError:
                asyncio_logger.error("socket.accept() out of system resource", exc_info=True)
        for _ in range(1000):
            asyncio_logger.warning("Executing <Task ...> took 0.2 seconds")
        assert written.getvalue().count("out of system resource") == log.TRACEBACK_BURST == 10
        assert written.getvalue().count("took 0.2 seconds") == log.LINE_BURST == 40
        clock.now += 60  # a minute later: 6 more tracebacks' worth
        for _ in range(100):
            try:
                raise OSError(24, "Too many open files")
            except OSError:
                asyncio_logger.error("socket.accept() out of system resource", exc_info=True)
        assert written.getvalue().count("out of system resource") == 10 + log.TRACEBACKS_PER_MINUTE
    finally:
        asyncio_logger.removeHandler(handler)
        asyncio_logger.propagate = True
    assert any(isinstance(f, log.Budgeted) for f in logging.lastResort.filters)
    assert (log.LINES_PER_SECOND, log.LINE_BURST, log.TRACEBACKS_PER_MINUTE, log.TRACEBACK_BURST) == (2.0, 40, 6.0, 10)
