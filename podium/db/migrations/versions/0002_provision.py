"""Provision state machine: step and timestamp columns of nodes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from podium.db.models import UTCDateTime

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('nodes') as batch:
        batch.add_column(sa.Column('provision_updated_at', UTCDateTime(),
                                   nullable=True))
        batch.add_column(sa.Column('inspection_started_at', UTCDateTime(),
                                   nullable=True))
        batch.add_column(sa.Column('inspection_finished_at', UTCDateTime(),
                                   nullable=True))
        batch.add_column(sa.Column('clean_step', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('deploy_step', sa.JSON(), nullable=True))
