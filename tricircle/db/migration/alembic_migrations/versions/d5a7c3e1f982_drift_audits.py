"""Drift audits; the regional revision a copy was last found in line at.

Revision ID: d5a7c3e1f982
Revises: b3e81f4a6c20
Create Date: 2026-12-04
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = 'd5a7c3e1f982'
down_revision = 'b3e81f4a6c20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('sync_states', sa.Column('regional_revision',
                                           sa.BigInteger(), nullable=True))
    op.create_table(
        'drift_audits',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('worker', sa.String(255), nullable=True),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('checked', sa.Integer(), nullable=False),
        sa.Column('done', sa.JSON(), nullable=False),
        sa.Column('found', sa.JSON(), nullable=False),
        sa.Column('repaired', sa.JSON(), nullable=False),
        sa.Column('skipped_pods', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_drift_audits'))
    op.create_index('ix_drift_audits_state', 'drift_audits', ['state'])
    op.create_index('ix_drift_audits_started_at', 'drift_audits',
                    ['started_at'])


def downgrade() -> None:
    op.drop_index('ix_drift_audits_started_at', table_name='drift_audits')
    op.drop_index('ix_drift_audits_state', table_name='drift_audits')
    op.drop_table('drift_audits')
    with op.batch_alter_table('sync_states') as batch:
        batch.drop_column('regional_revision')
