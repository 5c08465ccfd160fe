"""Sync state of each region's copy of a central resource; pod health.

Revision ID: b3e81f4a6c20
Revises: 9e4f0a6c2d57
Create Date: 2026-12-04
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = 'b3e81f4a6c20'
down_revision = '9e4f0a6c2d57'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sync_states',
        sa.Column('resource_type', sa.String(64), nullable=False),
        sa.Column('resource_id', sa.String(127), nullable=False),
        sa.Column('pod_id', sa.String(36), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('revision_number', sa.BigInteger(), nullable=True),
        sa.Column('target_revision', sa.BigInteger(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['pod_id'], ['pods.pod_id'],
                                name='fk_sync_states_pod_id_pods',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('resource_type', 'resource_id', 'pod_id',
                                name='pk_sync_states'))
    op.create_index('ix_sync_states_pod_id', 'sync_states', ['pod_id'])
    op.create_table(
        'pod_health',
        sa.Column('pod_id', sa.String(36), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('last_seen', sa.DateTime(), nullable=True),
        sa.Column('checked_at', sa.DateTime(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['pod_id'], ['pods.pod_id'],
                                name='fk_pod_health_pod_id_pods',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('pod_id', name='pk_pod_health'))


def downgrade() -> None:
    op.drop_table('pod_health')
    op.drop_index('ix_sync_states_pod_id', table_name='sync_states')
    op.drop_table('sync_states')
