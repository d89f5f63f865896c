"""Ports: the network interfaces of nodes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from podium.db.models import UTCDateTime

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ports',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('address', sa.String(18), nullable=False),
        sa.Column('node_id', sa.Integer(),
                  sa.ForeignKey('nodes.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('name', sa.String(255), nullable=True),
        sa.Column('description', sa.String(255), nullable=True),
        sa.Column('extra', sa.JSON(), nullable=False),
        sa.Column('internal_info', sa.JSON(), nullable=False),
        sa.Column('local_link_connection', sa.JSON(), nullable=False),
        sa.Column('pxe_enabled', sa.Boolean(), nullable=False),
        sa.Column('physical_network', sa.String(64), nullable=True),
        sa.Column('is_smartnic', sa.Boolean(), nullable=False),
        sa.Column('vendor', sa.String(32), nullable=True),
        sa.Column('category', sa.String(80), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=True),
        sa.UniqueConstraint('uuid', name='uniq_ports0uuid'),
        sa.UniqueConstraint('address', name='uniq_ports0address'),
        sa.UniqueConstraint('name', name='uniq_ports0name'),
    )
    op.create_index('ports_node_id_idx', 'ports', ['node_id'])
