"""Batches: fleet actions over many nodes and their per-node results.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from podium.db.models import UTCDateTime

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'batches',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('action', sa.String(32), nullable=False),
        sa.Column('args', sa.JSON(), nullable=False),
        sa.Column('policy', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('run', sa.Integer(), nullable=False),
        sa.Column('conductor', sa.String(255), nullable=True),
        sa.Column('user', sa.String(255), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=True),
        sa.UniqueConstraint('uuid', name='uniq_batches0uuid'),
    )
    op.create_index('batches_state_idx', 'batches', ['state'])
    op.create_table(
        'batch_nodes',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('batch_id', sa.Integer(),
                  sa.ForeignKey('batches.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('node_id', sa.Integer(), nullable=False),
        sa.Column('node_uuid', sa.String(36), nullable=False),
        sa.Column('node_name', sa.String(255), nullable=True),
        sa.Column('conductor_group', sa.String(255), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('run', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('started_at', UTCDateTime(), nullable=True),
        sa.Column('finished_at', UTCDateTime(), nullable=True),
    )
    op.create_index('batch_nodes_batch_id_idx', 'batch_nodes',
                    ['batch_id', 'state'])
