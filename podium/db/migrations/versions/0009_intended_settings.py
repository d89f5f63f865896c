"""Nodes carry intended settings and the drift from them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('nodes',
                  sa.Column('intended_settings', sa.JSON(), nullable=True))
    op.add_column('nodes', sa.Column('drift', sa.JSON(), nullable=True))
