"""BIOS settings cache; nodes' bios interface, boot mode and secure boot.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from podium.db.models import UTCDateTime

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('nodes', sa.Column('bios_interface', sa.String(255),
                                     nullable=True))
    op.add_column('nodes', sa.Column('boot_mode', sa.String(16),
                                     nullable=True))
    op.add_column('nodes', sa.Column('secure_boot', sa.Boolean(),
                                     nullable=True))
    op.create_table(
        'bios_settings',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('node_id', sa.Integer(),
                  sa.ForeignKey('nodes.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('value', sa.Text(), nullable=True),
        sa.Column('attribute_type', sa.String(255), nullable=True),
        sa.Column('allowable_values', sa.JSON(), nullable=True),
        sa.Column('lower_bound', sa.Integer(), nullable=True),
        sa.Column('upper_bound', sa.Integer(), nullable=True),
        sa.Column('min_length', sa.Integer(), nullable=True),
        sa.Column('max_length', sa.Integer(), nullable=True),
        sa.Column('read_only', sa.Boolean(), nullable=True),
        sa.Column('reset_required', sa.Boolean(), nullable=True),
        sa.Column('unique', sa.Boolean(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=True),
        sa.UniqueConstraint('node_id', 'name',
                            name='uniq_bios_settings0node_id0name'),
    )
