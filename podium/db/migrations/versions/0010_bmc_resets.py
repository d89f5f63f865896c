"""The last BMC reset of each conductor group, for a group-wide limit.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from podium.db.models import UTCDateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'bmc_resets',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('conductor_group', sa.String(255), nullable=False),
        sa.Column('last_reset', UTCDateTime(), nullable=False),
        sa.UniqueConstraint('conductor_group',
                            name='uniq_bmc_resets0conductor_group'),
    )
