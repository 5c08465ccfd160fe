"""The sandbox never gives two of its servers the same port, even when
the kernel offers a port it just offered (closed since)."""
from __future__ import annotations

import pytest

from tricircle.sandbox import processes


class KernelOffering:
    """socket.socket whose bind(port 0) gets the next of ``offers``."""

    def __init__(self, offers: list[int]) -> None:
        self.offers = offers

    def __call__(self, *args):
        offers = self.offers

        class Sock:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def bind(self, address):
                self.port = offers.pop(0)

            def getsockname(self):
                return ('127.0.0.1', self.port)
        return Sock()


@pytest.fixture
def none_handed_out(monkeypatch):
    monkeypatch.setattr(processes, '_handed_out', set())


def test_a_port_offered_again_is_not_handed_out_twice(monkeypatch,
                                                       none_handed_out):
    monkeypatch.setattr(processes.socket, 'socket',
                        KernelOffering([40001, 40001, 40001, 40002]))
    assert [processes.free_port(), processes.free_port()] == [40001, 40002]


def test_a_real_port_is_free_and_new(none_handed_out):
    ports = [processes.free_port() for _ in range(50)]
    assert len(set(ports)) == 50
