"""One sync_resource job type; drop the tables nothing used.

The per-type update jobs (update_network, update_subnet, update_port) and
port_delete became one converging job, sync_resource, keyed by
(pod_id, resource_type, resource_id). Queued and logged jobs of the old
types are rewritten to it, so that requests waiting at upgrade time still
run. A logged job's attempts now count every run, the one that succeeded
included (they counted the failed runs before it). cached_endpoints and
recycle_resources were never used.

Revision ID: 9e4f0a6c2d57
Revises: 7c1d4b2e8f31
Create Date: 2026-12-01
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = '9e4f0a6c2d57'
down_revision = '7c1d4b2e8f31'
branch_labels = None
depends_on = None

SEPARATOR = '#'
# old type -> resource type; their resource ids were "pod_id#id".
_OLD_TYPES = {'update_network': 'network', 'update_subnet': 'subnet',
              'update_port': 'port', 'port_delete': 'port'}
_NEW_TYPE = 'sync_resource'


def _rewrite_jobs(table_name: str) -> None:
    table = sa.table(table_name, sa.column('id', sa.String),
                     sa.column('type', sa.String),
                     sa.column('resource_id', sa.String))
    conn = op.get_bind()
    rows = conn.execute(sa.select(table.c.id, table.c.type,
                                  table.c.resource_id).where(
        table.c.type.in_(list(_OLD_TYPES)))).all()
    for row in rows:
        pod_id, _sep, res_id = row.resource_id.partition(SEPARATOR)
        conn.execute(table.update().where(table.c.id == row.id).values(
            type=_NEW_TYPE, resource_id=SEPARATOR.join(
                (pod_id, _OLD_TYPES[row.type], res_id))))


def upgrade() -> None:
    _rewrite_jobs('async_jobs')
    _rewrite_jobs('async_job_logs')
    logs = sa.table('async_job_logs', sa.column('attempts', sa.Integer))
    op.execute(logs.update().values(attempts=logs.c.attempts + 1))
    op.drop_index('ix_recycle_resources_project_id', 'recycle_resources')
    op.drop_table('recycle_resources')
    op.drop_index('ix_cached_endpoints_pod_id', 'cached_endpoints')
    op.drop_table('cached_endpoints')


def downgrade() -> None:
    # Jobs stay sync_resource: the old types are gone from the code.
    logs = sa.table('async_job_logs', sa.column('attempts', sa.Integer))
    op.execute(logs.update().values(attempts=logs.c.attempts - 1))
    op.create_table(
        'cached_endpoints',
        sa.Column('service_id', sa.String(64), nullable=False),
        sa.Column('pod_id', sa.String(36), nullable=False),
        sa.Column('service_type', sa.String(64), nullable=False),
        sa.Column('service_url', sa.String(512), nullable=False),
        sa.ForeignKeyConstraint(['pod_id'], ['pods.pod_id'],
                                name='fk_cached_endpoints_pod_id_pods',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('service_id', name='pk_cached_endpoints'))
    op.create_index('ix_cached_endpoints_pod_id', 'cached_endpoints',
                    ['pod_id'])
    op.create_table(
        'recycle_resources',
        sa.Column('resource_id', sa.String(36), nullable=False),
        sa.Column('resource_type', sa.String(64), nullable=False),
        sa.Column('project_id', sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint('resource_id', name='pk_recycle_resources'))
    op.create_index('ix_recycle_resources_project_id', 'recycle_resources',
                    ['project_id'])
