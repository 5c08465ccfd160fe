"""Initial Tricircle schema.

Revision ID: 5a3c2e7d9b10
Revises:
Create Date: 2025-11-22
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = '5a3c2e7d9b10'
down_revision = None
branch_labels = None
depends_on = None

_TOP_POD = sa.text("az_name = ''")


def upgrade() -> None:
    op.create_table(
        'pods',
        sa.Column('pod_id', sa.String(36), nullable=False),
        sa.Column('region_name', sa.String(255), nullable=False),
        sa.Column('pod_az_name', sa.String(255), nullable=True),
        sa.Column('dc_name', sa.String(255), nullable=True),
        sa.Column('az_name', sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint('pod_id', name='pk_pods'),
        sa.UniqueConstraint('region_name', name='uq_pods_region_name'))
    # At most one central pod (az_name '').
    op.create_index('uq_pods_top_pod', 'pods', ['az_name'], unique=True,
                    sqlite_where=_TOP_POD, postgresql_where=_TOP_POD)

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
        'resource_routings',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=True, nullable=False),
        sa.Column('top_id', sa.String(127), nullable=False),
        sa.Column('bottom_id', sa.String(36), nullable=True),
        sa.Column('pod_id', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(36), nullable=True),
        sa.Column('resource_type', sa.String(64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['pod_id'], ['pods.pod_id'],
                                name='fk_resource_routings_pod_id_pods',
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name='pk_resource_routings'),
        sa.UniqueConstraint(
            'top_id', 'pod_id', 'resource_type',
            name='uq_resource_routings_top_id_pod_id_resource_type'))
    for column in ('bottom_id', 'pod_id', 'project_id'):
        op.create_index('ix_resource_routings_%s' % column,
                        'resource_routings', [column])

    op.create_table(
        'async_jobs',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(36), nullable=True),
        sa.Column('type', sa.String(36), nullable=False),
        sa.Column('timestamp', sa.DateTime(), nullable=False,
                  server_default=sa.func.now()),
        sa.Column('status', sa.String(36), nullable=False),
        sa.Column('resource_id', sa.String(127), nullable=False),
        sa.Column('extra_id', sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_async_jobs'),
        sa.UniqueConstraint(
            'type', 'status', 'resource_id', 'extra_id',
            name='uq_async_jobs_type_status_resource_id_extra_id'))
    op.create_index('ix_async_jobs_timestamp', 'async_jobs', ['timestamp'])
    op.create_index('ix_async_jobs_type_resource_id', 'async_jobs',
                    ['type', 'resource_id'])

    op.create_table(
        'async_job_logs',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(36), nullable=True),
        sa.Column('resource_id', sa.String(127), nullable=False),
        sa.Column('type', sa.String(36), nullable=False),
        sa.Column('timestamp', sa.DateTime(), nullable=False,
                  server_default=sa.func.now()),
        sa.PrimaryKeyConstraint('id', name='pk_async_job_logs'))
    op.create_index('ix_async_job_logs_timestamp', 'async_job_logs',
                    ['timestamp'])

    op.create_table(
        'shadow_agents',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('pod_id', sa.String(36), nullable=False),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('type', sa.String(36), nullable=False),
        sa.Column('tunnel_ip', sa.String(48), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['pod_id'], ['pods.pod_id'],
                                name='fk_shadow_agents_pod_id_pods',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_shadow_agents'),
        sa.UniqueConstraint('pod_id', 'host', 'type',
                            name='uq_shadow_agents_pod_id_host_type'))

    op.create_table(
        'deleting_resources',
        sa.Column('resource_id', sa.String(127), nullable=False),
        sa.Column('resource_type', sa.String(64), nullable=False),
        sa.Column('deleted_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('resource_id', 'resource_type',
                                name='pk_deleting_resources'))

    op.create_table(
        'recycle_resources',
        sa.Column('resource_id', sa.String(36), nullable=False),
        sa.Column('resource_type', sa.String(64), nullable=False),
        sa.Column('project_id', sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint('resource_id', name='pk_recycle_resources'))
    op.create_index('ix_recycle_resources_project_id', 'recycle_resources',
                    ['project_id'])


def downgrade() -> None:
    for table in ('recycle_resources', 'deleting_resources', 'shadow_agents',
                  'async_job_logs', 'async_jobs', 'resource_routings',
                  'cached_endpoints', 'pods'):
        op.drop_table(table)
