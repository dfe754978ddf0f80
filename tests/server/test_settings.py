"""The limits' settings: from the environment (a Space's variables) and demo.py's flags through the same
methods; the per-address shares scale together for an audience behind one NAT (pytest, CPU)."""

from __future__ import annotations

import pytest

from server.settings import Settings


def test_settings_come_from_the_environment():
    settings = Settings.from_environment({"DEMO_PER_ADDRESS_EVENTS": "64", "DEMO_PER_ADDRESS_RATE": "100"})
    assert (settings.per_address, settings.per_address_rate, settings.per_address_burst) == (64, 100, 200)
    assert Settings.from_environment({}) == Settings()
    assert Settings().with_events(0).with_rate(0).per_address_rate == 0


def test_the_per_address_shares_scale_with_the_events():
    """A talk behind one NAT: 4x the events gives 4x the streams, sessions, loads, upload bytes, connections."""
    base, talk = Settings(), Settings().with_events(64)
    assert (base.per_address, base.per_address_streams, base.per_address_sessions, base.per_peer_connections) == \
        (16, 32, 100, 64)
    assert (talk.per_address_streams, talk.per_address_sessions, talk.per_peer_connections) == (128, 400, 256)
    assert (talk.loads_per_second, talk.load_burst, talk.per_address_upload_bytes) == \
        (4 * base.loads_per_second, 4 * base.load_burst, 4 * base.per_address_upload_bytes)
    off = Settings().with_events(0)
    assert (off.per_address_streams, off.per_address_sessions, off.loads_per_second) == (0, 0, 0)


def test_proxy_hops_default_to_one_on_a_space_and_to_none_elsewhere():
    assert Settings.from_environment({}).proxy_hops == 0
    assert Settings.from_environment({"SPACE_ID": "someone/bilstm"}).proxy_hops == 1
    assert Settings.from_environment({"SPACE_ID": "someone/bilstm", "DEMO_PROXY_HOPS": "2"}).proxy_hops == 2
    assert Settings.from_environment({"DEMO_PROXY_HOPS": "0", "SPACE_ID": "x"}).proxy_hops == 0
    with pytest.raises(ValueError, match="0 or more"):
        Settings().with_proxy_hops(-1)
