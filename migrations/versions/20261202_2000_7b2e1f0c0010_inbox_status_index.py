"""An index for the inbox and the API list filtered by status (counting and paging from the index alone).

Revision ID: 7b2e1f0c0010
Revises: 6a1d0c0b0009
Create Date: 2026-12-02 20:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '7b2e1f0c0010'
down_revision = '6a1d0c0b0009'
branch_labels = None
depends_on = None

WHERE = "status <> 'draft' AND sent_at IS NOT NULL"


def upgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(
            'ix_referrals_inbox_status',
            ['agency_id', 'status', 'due_on', sa.text('id DESC')],
            unique=False,
            postgresql_where=sa.text(WHERE),
        )


def downgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_inbox_status')
