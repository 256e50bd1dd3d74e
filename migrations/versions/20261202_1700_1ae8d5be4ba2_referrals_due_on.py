"""Referrals store the deadline they wait on (due_on), and two indexes serve the inbox's order.

``due_on`` is acknowledge_by while sent, decide_by while acknowledged, else null: the
partner inbox, our staff's list, "overdue" and the chase job read it from an index, so a
page costs the same whatever the number of referrals.

Revision ID: 1ae8d5be4ba2
Revises: a7c3e5d10007
Create Date: 2026-12-02 17:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '1ae8d5be4ba2'
down_revision = 'a7c3e5d10007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
    op.execute(
        "UPDATE referrals SET due_on = CASE status WHEN 'sent' THEN acknowledge_by "
        "WHEN 'acknowledged' THEN decide_by END"
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_by_due', ['due_on', sa.text('id DESC')], unique=False)
        batch_op.create_index(
            'ix_referrals_inbox',
            ['agency_id', 'due_on', sa.text('id DESC')],
            unique=False,
            postgresql_where=sa.text("status <> 'draft' AND sent_at IS NOT NULL"),
        )


def downgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_inbox', postgresql_where=sa.text("status <> 'draft' AND sent_at IS NOT NULL"))
        batch_op.drop_index('ix_referrals_by_due')
        batch_op.drop_column('due_on')
