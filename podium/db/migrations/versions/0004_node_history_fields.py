"""Node history: the project, node states and duration of each event.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('node_history',
                  sa.Column('project', sa.String(80), nullable=True))
    op.add_column('node_history',
                  sa.Column('state', sa.String(255), nullable=True))
    op.add_column('node_history',
                  sa.Column('target_provision_state', sa.String(255),
                            nullable=True))
    op.add_column('node_history',
                  sa.Column('duration_seconds', sa.Integer(), nullable=True))
