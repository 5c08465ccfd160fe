"""A small threaded WSGI server for the Admin API and the sandbox.

Neutron 29 and Keystone 30 ship WSGI applications only; production runs
them under uwsgi or mod_wsgi. The sandbox and the standalone Admin API
use this server: one thread per request, optionally serialized (SQLite
cannot take concurrent writers).
"""
from __future__ import annotations

import signal
import socketserver
import threading
from typing import Callable
from wsgiref import simple_server

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class _ThreadingWSGIServer(socketserver.ThreadingMixIn,
                           simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (stdlib signature)
        LOG.debug('%s - %s', self.address_string(), format % args)


def serialized(app: Callable) -> Callable:
    """Run one request at a time (for SQLite-backed servers)."""
    lock = threading.Lock()

    def _app(environ, start_response):
        with lock:
            # Materialize the body inside the lock: the app may stream it.
            return list(app(environ, start_response))
    return _app


def serve(app: Callable, host: str, port: int) -> None:
    """Serve ``app`` until SIGTERM or SIGINT."""
    server = simple_server.make_server(
        host, port, app, server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler)

    def _stop(signum, frame):
        LOG.info('signal %d received, stopping', signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    LOG.info('serving on http://%s:%d', host, port)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
