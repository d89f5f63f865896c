"""Nodes name their boot and deploy interfaces.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('nodes',
                  sa.Column('boot_interface', sa.String(255), nullable=True))
    op.add_column('nodes',
                  sa.Column('deploy_interface', sa.String(255),
                            nullable=True))
