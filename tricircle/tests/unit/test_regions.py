"""tricircle.resources.regions: calls made at once."""
from __future__ import annotations

import threading
import time

import pytest

from tricircle.resources import neutron_client
from tricircle.resources import regions


def test_at_once_runs_the_calls_together_and_keeps_their_order():
    both = threading.Barrier(3, timeout=5)  # fails if they run in turn

    def call(value):
        def run():
            both.wait()
            return value
        return run
    assert regions.at_once(call('a'), call('b'), call('c')) == [
        'a', 'b', 'c']
    assert regions.at_once() == []


def test_at_once_waits_for_every_call_then_raises_the_first_error():
    done = []

    def slow():
        time.sleep(0.3)
        done.append('slow')
        raise neutron_client.RemoteConflict(server='b', status=409,
                                            reason='second')

    def fails():
        raise neutron_client.RemoteNotFound(server='a', status=404,
                                            reason='first')
    with pytest.raises(neutron_client.RemoteNotFound):
        regions.at_once(fails, slow)
    assert done == ['slow'], 'the other call was over before the raise'
    with pytest.raises(neutron_client.RemoteConflict):
        regions.at_once(lambda: 'fine', slow)
