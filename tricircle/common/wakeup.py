"""Wake-up messages for the XJob daemons (oslo.messaging), when configured.

Jobs never travel in messages: they are in the database. A message only
tells idle daemons to look now instead of at their next poll, so a lost
message delays a job by at most one poll interval.
"""
from __future__ import annotations

import threading

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging

LOG = logging.getLogger(__name__)
TOPIC = 'tricircle-xjob'
_transport = None
_lock = threading.Lock()
# Set by wake(); the sender thread casts one message per round.
_pending = threading.Event()
_sender: threading.Thread | None = None


def _get_transport(conf: cfg.ConfigOpts):
    global _transport
    url = conf.xjob.transport_url
    if not url:
        return None
    with _lock:
        if _transport is None:
            _transport = oslo_messaging.get_rpc_transport(conf, url=url)
    return _transport


def wake(conf: cfg.ConfigOpts = cfg.CONF) -> None:
    """Best effort: tell the daemons a job is waiting. Returns at once:
    a sender thread casts the message, and wake-ups asked for meanwhile
    share one, so a broker that is slow or gone never holds a request."""
    global _sender
    try:
        if not conf.xjob.transport_url:
            return
    except cfg.NoSuchOptError:
        return
    _pending.set()
    with _lock:
        if _sender is None or not _sender.is_alive():
            _sender = threading.Thread(target=_send_loop, args=(conf,),
                                       name='xjob-wake', daemon=True)
            _sender.start()


def _send_loop(conf: cfg.ConfigOpts) -> None:
    while True:
        _pending.wait()
        _pending.clear()
        try:
            transport = _get_transport(conf)
            if transport is None:
                continue
            # retry=0: a broker that is down costs one failed attempt;
            # the daemons' poll finds the job anyway.
            client = oslo_messaging.get_rpc_client(
                transport, oslo_messaging.Target(topic=TOPIC, fanout=True),
                retry=0)
            client.cast({}, 'wake')
        except Exception as exc:  # the daemons poll anyway
            LOG.warning('could not wake the job daemons: %s', exc)


class _Endpoint:
    target = oslo_messaging.Target(version='1.0')

    def __init__(self, event: threading.Event) -> None:
        self._event = event

    def wake(self, ctxt) -> None:
        self._event.set()


def start_listener(conf: cfg.ConfigOpts, event: threading.Event,
                   server_name: str):
    """Set ``event`` on every wake-up; None without a transport."""
    transport = _get_transport(conf)
    if transport is None:
        return None
    server = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(topic=TOPIC, server=server_name),
        [_Endpoint(event)], executor='threading')
    server.start()
    return server
