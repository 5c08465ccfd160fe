"""Paste filter: which Tricircle peer sent this request?

The local plugins name their region in the ``X-Tricircle-Source`` header
when they call the central Neutron, and the central plugin names the
central region when it calls a region. With it:

- central knows a region is about to use a resource (it records the
  routing) and hides a resource being deleted from regions only;
- a region serving central's request never calls central back (central
  may be waiting for this very answer).

The header is trusted from admin callers only (services).
"""
from __future__ import annotations

from oslo_middleware import base
import webob.dec

SOURCE_HEADER = 'X-Tricircle-Source'
CONTEXT_ATTR = 'tricircle_source'


def source_of(context) -> str | None:
    """The region that sent the request, or None for ordinary users."""
    return getattr(context, CONTEXT_ATTR, None)


class RequestSource(base.ConfigurableMiddleware):

    @webob.dec.wsgify
    def __call__(self, req):
        source = req.headers.get(SOURCE_HEADER)
        ctx = req.environ.get('neutron.context')
        if source and ctx is not None and ctx.is_admin:
            setattr(ctx, CONTEXT_ATTR, source)
        return req.get_response(self.application)
