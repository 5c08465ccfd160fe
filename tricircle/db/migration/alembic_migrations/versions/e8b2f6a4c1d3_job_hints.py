"""A job request's hint: what its submitter had in hand.

Revision ID: e8b2f6a4c1d3
Revises: d5a7c3e1f982
Create Date: 2026-12-06
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = 'e8b2f6a4c1d3'
down_revision = 'd5a7c3e1f982'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('async_jobs') as batch:
        batch.add_column(sa.Column('hint', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('async_jobs') as batch:
        batch.drop_column('hint')
