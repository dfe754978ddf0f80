"""Fixtures of the server's tests: the app launched in this process (tests/conftest.py's `app`) by its URL, and
`python demo.py` as users run it, whose log is counted."""

from __future__ import annotations

import pytest

from harness import start_server


@pytest.fixture(scope="module")
def url(app) -> str:
    return app.demo.local_url.rstrip("/")


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """`python demo.py` with a cache of its own (GRADIO_TEMP_DIR) -> (url without a trailing slash, process)."""
    cache = tmp_path_factory.mktemp("gradio-cache")
    with start_server(env={"GRADIO_TEMP_DIR": str(cache)}) as (server_url, process, _):
        process.cache = cache
        yield server_url.rstrip("/"), process
