"""The integration tests' load generator against a local HTTP server: its silence check tells a load that went on
throughout from one that stopped, whatever the machine's speed."""

from __future__ import annotations

import time

import pytest
from http_stub import serving

from tests.harness.http import TIMEOUT, Edge, Load


def ok(_request):
    return 200, b"ok"


def test_a_load_that_goes_on_throughout_has_no_long_silence():
    with serving(ok) as server, Load(Edge(f"127.0.0.1:{server.server_port}", "app.test"), rate=20) as load:
        time.sleep(1)
    assert len(load.results) >= 10 and not load.failures
    assert load.longest_silence() < 0.5 < TIMEOUT
    load.assert_went_on()


def test_a_load_that_stopped_early_shows_the_silence_after_it():
    with (
        serving(ok) as server,
        Load(Edge(f"127.0.0.1:{server.server_port}", "app.test"), clients=1, max_requests=5) as load,
    ):
        time.sleep(1)
    assert len(load.results) == 5
    last_answer = max(sent + took for sent, took in load.timings)
    assert load.stopped - last_answer > 0.5, "the client stopped after 5 requests, the load went on"
    assert load.longest_silence() == pytest.approx(load.stopped - last_answer)
    after = (last_answer + load.stopped) / 2
    assert load.longest_silence(after) == pytest.approx(load.stopped - after), "silent throughout after its end"


def test_a_silence_of_a_timeout_fails_the_check():
    with serving(ok) as server, Load(Edge(f"127.0.0.1:{server.server_port}", "app.test"), max_requests=1) as load:
        time.sleep(TIMEOUT + 1)  # a second more than the bound: the one request's own time comes off the silence
    with pytest.raises(AssertionError, match=r"the load stopped for \d+\.\d s"):
        load.assert_went_on()


def test_a_load_not_run_has_no_silence_to_tell():
    with pytest.raises(ValueError, match="has not run"):
        Load(Edge("127.0.0.1:9", "app.test")).longest_silence()


def test_a_slow_answer_is_not_a_silence():
    def slow(_request):
        time.sleep(0.6)
        return 200, b"ok"

    with serving(slow) as server, Load(Edge(f"127.0.0.1:{server.server_port}", "app.test"), clients=1) as load:
        time.sleep(1.5)
    assert len(load.results) >= 2 and load.slowest >= 0.6
    assert load.longest_silence() < 0.3, "a request was in flight all the time"
