"""Job attempts, last error, retry time and runner.

Revision ID: 7c1d4b2e8f31
Revises: 5a3c2e7d9b10
Create Date: 2026-11-22
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = '7c1d4b2e8f31'
down_revision = '5a3c2e7d9b10'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('async_jobs') as batch:
        batch.add_column(sa.Column('attempts', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch.add_column(sa.Column('next_run_at', sa.DateTime(),
                                   nullable=True))
        batch.add_column(sa.Column('worker', sa.String(255), nullable=True))
    with op.batch_alter_table('async_job_logs') as batch:
        batch.add_column(sa.Column('attempts', sa.Integer(), nullable=False,
                                   server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('async_job_logs') as batch:
        batch.drop_column('attempts')
    with op.batch_alter_table('async_jobs') as batch:
        for column in ('worker', 'next_run_at', 'last_error', 'attempts'):
            batch.drop_column(column)
