"""An index of each person's unread notifications (every page counts them).

Revision ID: 6a1d0c0b0009
Revises: 5e417a5d0008
Create Date: 2026-12-02 19:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '6a1d0c0b0009'
down_revision = '5e417a5d0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(
            'ix_notifications_unread',
            ['user_id'],
            unique=False,
            postgresql_where=sa.text('read_at IS NULL'),
            sqlite_where=sa.text('read_at IS NULL'),
        )


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_unread')
