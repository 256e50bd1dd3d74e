"""An index of active consents by the day they end (the home page's "ending soon", the expiry job).

Revision ID: 8c3f2a1d0011
Revises: 7b2e1f0c0010
Create Date: 2026-12-02 21:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '8c3f2a1d0011'
down_revision = '7b2e1f0c0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.create_index(
            'ix_consent_records_expiring', ['expires_on'], unique=False, postgresql_where=sa.text("status = 'active'")
        )


def downgrade():
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_records_expiring')
