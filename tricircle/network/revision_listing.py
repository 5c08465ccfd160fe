"""A cheap listing for the drift audit: ids and revision numbers.

Neutron's list path loads every resource whole (its relationships and
extensions) and checks policy per item, whatever ``fields`` asks for. The
drift audit (tricircle.xjob.drift) lists every copy each pass and needs
only a few columns, so a Tricircle peer may ask for just those: with
``X-Tricircle-Listing: revisions`` (admin callers only, see
tricircle.network.request_source) a list of networks, subnets, ports,
security groups or address groups is answered by one query per page from
the resource's own table and its standard attributes. Only plain columns
are returned (``revision_number`` included; a field that is no column is
left out), sorted by id; ``limit`` and ``marker`` page as usual. A request the
shortcut cannot answer exactly (other sort keys, reverse pages, filters
on anything but a column) takes Neutron's own path.
"""
from __future__ import annotations

from typing import Any

from neutron.db.models import address_group as ag_models
from neutron.db.models import securitygroup as sg_models
from neutron.db import models_v2
from neutron_lib.db import api as db_api
from neutron_lib.db import standard_attr
import sqlalchemy as sa

from tricircle.network import request_source

REVISION = 'revision_number'


def listing(context, model, filters: dict | None, fields: list | None,
            sorts: list | None, limit: int | None, marker: str | None,
            page_reverse: bool) -> list[dict[str, Any]] | None:
    """The rows asked for, or None when the request is not for this."""
    if not request_source.wants_revisions(context) or page_reverse or \
            any(key != 'id' or not asc for key, asc in sorts or ()):
        return None
    table = model.__table__
    columns = {'id': table.c.id,
               REVISION: standard_attr.StandardAttribute.revision_number}
    for field in fields or ():
        if field not in columns and field in table.c:
            columns[field] = table.c[field]
    stmt = sa.select(*columns.values()).join(
        standard_attr.StandardAttribute,
        table.c.standard_attr_id == standard_attr.StandardAttribute.id)
    for key, values in (filters or {}).items():
        if key not in table.c:
            return None
        stmt = stmt.where(table.c[key].in_(
            values if isinstance(values, (list, tuple, set)) else [values]))
    if marker:
        stmt = stmt.where(table.c.id > marker)
    stmt = stmt.order_by(table.c.id)
    if limit:
        stmt = stmt.limit(limit)
    with db_api.CONTEXT_READER.using(context):
        rows = context.session.execute(stmt).all()
    return [dict(zip(columns, row)) for row in rows]


class RevisionListing:
    """Put before ML2 in a plugin's bases: its lists take the shortcut
    when asked."""

    def get_networks(self, context, filters=None, fields=None, sorts=None,
                     limit=None, marker=None, page_reverse=False):
        rows = listing(context, models_v2.Network, filters, fields, sorts,
                       limit, marker, page_reverse)
        if rows is not None:
            return rows
        return super().get_networks(context, filters, fields, sorts, limit,
                                    marker, page_reverse)

    def get_subnets(self, context, filters=None, fields=None, sorts=None,
                    limit=None, marker=None, page_reverse=False):
        rows = listing(context, models_v2.Subnet, filters, fields, sorts,
                       limit, marker, page_reverse)
        if rows is not None:
            return rows
        return super().get_subnets(context, filters, fields, sorts, limit,
                                   marker, page_reverse)

    def get_ports(self, context, filters=None, fields=None, sorts=None,
                  limit=None, marker=None, page_reverse=False):
        rows = listing(context, models_v2.Port, filters, fields, sorts,
                       limit, marker, page_reverse)
        if rows is not None:
            return rows
        return super().get_ports(context, filters, fields, sorts, limit,
                                 marker, page_reverse)

    def get_security_groups(self, context, filters=None, fields=None,
                            sorts=None, limit=None, marker=None,
                            page_reverse=False, default_sg=False):
        rows = listing(context, sg_models.SecurityGroup, filters, fields,
                       sorts, limit, marker, page_reverse)
        if rows is not None:
            return rows
        return super().get_security_groups(
            context, filters, fields, sorts, limit, marker, page_reverse,
            default_sg=default_sg)

    def get_address_groups(self, context, filters=None, fields=None,
                           sorts=None, limit=None, marker=None,
                           page_reverse=False):
        rows = listing(context, ag_models.AddressGroup, filters, fields,
                       sorts, limit, marker, page_reverse)
        if rows is not None:
            return rows
        return super().get_address_groups(context, filters, fields, sorts,
                                          limit, marker, page_reverse)
