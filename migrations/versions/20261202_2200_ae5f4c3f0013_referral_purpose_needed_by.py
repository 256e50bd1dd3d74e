"""Referrals carry the purpose of her consent they rest on, and the day the work is needed by.

``purpose`` is ``referral`` (every existing referral) or ``release_planning`` (a release plan
item's referral): each basis check for the referral asks about it. ``needed_by`` caps the
acknowledge-by and decide-by deadlines; existing referrals have none.

Revision ID: ae5f4c3f0013
Revises: 9d4e3b2e0012
Create Date: 2026-12-02 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'ae5f4c3f0013'
down_revision = '9d4e3b2e0012'
branch_labels = None
depends_on = None


def _postgresql():
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=24), server_default='referral', nullable=False))
        batch_op.add_column(sa.Column('needed_by', sa.Date(), nullable=True))
    # On SQLite (the demo) adding a CHECK means copying the table, which would rebuild the inbox
    # indexes without their DESC order; there the schemas and the service refuse other purposes.
    if _postgresql():
        op.create_check_constraint(
            'purpose_for_referrals', 'referrals', "purpose IN ('referral', 'release_planning')"
        )


def downgrade():
    if _postgresql():
        op.drop_constraint('ck_referrals_purpose_for_referrals', 'referrals', type_='check')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_column('needed_by')
        batch_op.drop_column('purpose')
