"""Initial schema: nodes, conductors, node_history.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from podium.db.models import UTCDateTime

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'nodes',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255), nullable=True),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('driver', sa.String(255), nullable=False),
        sa.Column('driver_info', sa.JSON(), nullable=False),
        sa.Column('driver_internal_info', sa.JSON(), nullable=False),
        sa.Column('properties', sa.JSON(), nullable=False),
        sa.Column('extra', sa.JSON(), nullable=False),
        sa.Column('instance_uuid', sa.String(36), nullable=True),
        sa.Column('instance_info', sa.JSON(), nullable=False),
        sa.Column('resource_class', sa.String(80), nullable=True),
        sa.Column('owner', sa.String(255), nullable=True),
        sa.Column('power_interface', sa.String(255), nullable=True),
        sa.Column('management_interface', sa.String(255), nullable=True),
        sa.Column('inspect_interface', sa.String(255), nullable=True),
        sa.Column('power_state', sa.String(15), nullable=True),
        sa.Column('target_power_state', sa.String(15), nullable=True),
        sa.Column('provision_state', sa.String(15), nullable=False),
        sa.Column('target_provision_state', sa.String(15), nullable=True),
        sa.Column('maintenance', sa.Boolean(), nullable=False),
        sa.Column('maintenance_reason', sa.Text(), nullable=True),
        sa.Column('fault', sa.String(255), nullable=True),
        sa.Column('reservation', sa.String(255), nullable=True),
        sa.Column('conductor_group', sa.String(255), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=True),
        sa.UniqueConstraint('uuid', name='uniq_nodes0uuid'),
        sa.UniqueConstraint('name', name='uniq_nodes0name'),
    )
    op.create_index('nodes_reservation_idx', 'nodes', ['reservation'])
    op.create_index('nodes_driver_idx', 'nodes', ['driver'])
    op.create_index('nodes_conductor_group_idx', 'nodes',
                    ['conductor_group'])
    op.create_index('nodes_provision_state_idx', 'nodes',
                    ['provision_state'])
    op.create_table(
        'conductors',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('hostname', sa.String(255), nullable=False),
        sa.Column('conductor_group', sa.String(255), nullable=False),
        sa.Column('drivers', sa.JSON(), nullable=False),
        sa.Column('online', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=True),
        sa.UniqueConstraint('hostname', name='uniq_conductors0hostname'),
    )
    op.create_table(
        'node_history',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('node_id', sa.Integer(),
                  sa.ForeignKey('nodes.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('event', sa.Text(), nullable=False),
        sa.Column('event_type', sa.String(255), nullable=False),
        sa.Column('severity', sa.String(255), nullable=False),
        sa.Column('conductor', sa.String(255), nullable=True),
        sa.Column('user', sa.String(255), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.UniqueConstraint('uuid', name='uniq_node_history0uuid'),
    )
    op.create_index('history_node_id_idx', 'node_history', ['node_id'])
