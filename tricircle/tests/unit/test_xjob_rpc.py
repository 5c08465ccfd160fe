"""Wake-up messages reach an idle daemon (in-process fake transport)."""
from __future__ import annotations

import threading

from oslo_config import cfg

from tricircle.common import config
from tricircle.common import wakeup as rpc


def test_wake_sets_the_daemon_event():
    config.register_xjob_opts(cfg.CONF)
    cfg.CONF.set_override('transport_url', 'fake:/', group='xjob')
    event = threading.Event()
    server = rpc.start_listener(cfg.CONF, event, 'test-daemon')
    try:
        assert server is not None
        assert not event.is_set()
        rpc.wake()
        assert event.wait(5)
    finally:
        server.stop()
        server.wait()
        cfg.CONF.clear_override('transport_url', group='xjob')
        rpc._transport = None


def test_without_transport_nothing_listens():
    config.register_xjob_opts(cfg.CONF)
    assert rpc.start_listener(cfg.CONF, threading.Event(), 'x') is None
    rpc.wake()  # no transport: a no-op, never an error


def test_wake_returns_while_the_broker_holds_the_message(monkeypatch):
    """A broker that is slow to take the message never holds the API
    request that submitted a job; wake-ups asked for meanwhile share the
    next message."""
    config.register_xjob_opts(cfg.CONF)
    cfg.CONF.set_override('transport_url', 'fake:/', group='xjob')
    entered, release = threading.Event(), threading.Event()
    casts = []

    class SlowClient:
        def cast(self, ctxt, method):
            casts.append(method)
            entered.set()
            release.wait(10)

    monkeypatch.setattr(rpc.oslo_messaging, 'get_rpc_client',
                        lambda *args, **kwargs: SlowClient())
    try:
        rpc.wake()  # returns although the cast below has not
        assert entered.wait(5)
        rpc.wake()
        rpc.wake()
        assert casts == ['wake']
        entered.clear()
        release.set()
        assert entered.wait(5)  # the two shared one more message
        assert casts == ['wake', 'wake']
    finally:
        release.set()
        cfg.CONF.clear_override('transport_url', group='xjob')
        rpc._transport = None
