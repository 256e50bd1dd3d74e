"""An index of unread notifications by the page they link to (read when that page is opened or acted on).

Revision ID: 9d4e3b2e0012
Revises: 8c3f2a1d0011
Create Date: 2026-12-02 21:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '9d4e3b2e0012'
down_revision = '8c3f2a1d0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(
            'ix_notifications_unread_link',
            ['link'],
            unique=False,
            postgresql_where=sa.text('read_at IS NULL'),
            sqlite_where=sa.text('read_at IS NULL'),
        )


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_unread_link')
