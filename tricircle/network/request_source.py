"""Paste filter: which Tricircle peer sent this request?

The local plugins name their region in the ``X-Tricircle-Source`` header
when they call the central Neutron, and the central plugin names the
central region when it calls a region (tricircle.resources.regions).
With it:

- central knows a region is about to use a resource (it records the
  routing) and hides a resource being deleted from regions only;
- a region serving central's request never calls central back (central
  may be waiting for this very answer).

A region that proposes a new port's id (see local.address_proposal), and
XJob copying a central router into a region, name the id in
``X-Tricircle-Resource-Id``; a region fetching a resource to copy
it for a user names the user's project in
``X-Tricircle-Requester-Project``, and says ``X-Tricircle-Claim`` when it
takes a port made on central as its own. A region reporting the status
its L3 agent gave a floating IP's copy says it in ``X-Tricircle-Status``.
XJob's drift audit asks for ids and revisions only with
``X-Tricircle-Listing: revisions`` (tricircle.network.revision_listing).

The headers are trusted from admin callers only (services).
"""
from __future__ import annotations

import contextlib
from typing import Iterator

from oslo_middleware import base
from oslo_utils import uuidutils
import webob.dec

from tricircle.resources import regions

CONTEXT_ATTR = 'tricircle_source'
RESOURCE_ID_ATTR = 'tricircle_resource_id'
REQUESTER_ATTR = 'tricircle_requester_project'
CLAIM_ATTR = 'tricircle_claim'
STATUS_ATTR = 'tricircle_status'
LISTING_ATTR = 'tricircle_listing'
# X-Tricircle-Listing: ids and revisions only (revision_listing).
LISTING_REVISIONS = 'revisions'


def requesting_peer(context) -> str | None:
    """The Tricircle peer (a region's name, or central's) that sent the
    request; None for ordinary users."""
    return getattr(context, CONTEXT_ATTR, None)


def requester_project(context) -> str | None:
    """The project a region fetches a resource for; None when the region
    asks for itself (or for an admin)."""
    return getattr(context, REQUESTER_ATTR, None)


def claims(context) -> bool:
    """Whether the region takes the resource it fetches as its own."""
    return bool(getattr(context, CLAIM_ATTR, False))


def reported_status(context) -> str | None:
    """The status a region reports for its copy of the resource."""
    return getattr(context, STATUS_ATTR, None)


def wants_revisions(context) -> bool:
    """A peer asks for the drift audit's cheap listing."""
    return getattr(context, LISTING_ATTR, None) == LISTING_REVISIONS


def proposed_id(context) -> str | None:
    """The id a peer gives the resource it asks to create (a region's
    port on central, XJob's router copy in a region)."""
    return getattr(context, RESOURCE_ID_ATTR, None)


@contextlib.contextmanager
def plugin_own_reads(context) -> Iterator[str | None]:
    """The plugin's own calls while it serves a peer's request.

    ML2 reads the network and subnets again while it creates or updates a
    port; those reads are not the peer fetching a copy, so they must not
    be recorded (nor write the Tricircle DB inside Neutron's transaction).
    Yields the peer's region.
    """
    peer = requesting_peer(context)
    if peer is None:
        yield None
        return
    delattr(context, CONTEXT_ATTR)
    try:
        yield peer
    finally:
        setattr(context, CONTEXT_ATTR, peer)


class RequestSource(base.ConfigurableMiddleware):

    @webob.dec.wsgify
    def __call__(self, req):
        source = req.headers.get(regions.SOURCE_HEADER)
        ctx = req.environ.get('neutron.context')
        listing = req.headers.get(regions.LISTING_HEADER)
        if listing and ctx is not None and ctx.is_admin:
            setattr(ctx, LISTING_ATTR, listing)
        if source and ctx is not None and ctx.is_admin:
            setattr(ctx, CONTEXT_ATTR, source)
            res_id = req.headers.get(regions.RESOURCE_ID_HEADER)
            if res_id and uuidutils.is_uuid_like(res_id):
                setattr(ctx, RESOURCE_ID_ATTR, res_id)
            requester = req.headers.get(regions.REQUESTER_HEADER)
            if requester:
                setattr(ctx, REQUESTER_ATTR, requester)
            if req.headers.get(regions.CLAIM_HEADER):
                setattr(ctx, CLAIM_ATTR, True)
            status = req.headers.get(regions.STATUS_HEADER)
            if status:
                setattr(ctx, STATUS_ATTR, status)
        return req.get_response(self.application)
