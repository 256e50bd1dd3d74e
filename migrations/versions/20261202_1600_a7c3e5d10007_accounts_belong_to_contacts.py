"""Accounts belong to contacts; handovers keep what was handed over.

- ``handovers.items``: each item handed over (key, section, label, link, taker).
- Every open partner account not yet linked to a contact is linked to the
  active contact of its own agency with the same email (when exactly one
  such contact has no account). Those left over are listed by
  ``flask hub unlinked-accounts`` for an administrator to link (until then
  they cannot sign in: a partner account acts only while it belongs to a
  current contact).
- An account linked to a contact recorded as having left before this
  version is closed now, and its sessions end, as recording the leaving
  does from now on.

Revision ID: a7c3e5d10007
Revises: f3a1c0de0006
Create Date: 2026-12-02 16:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a7c3e5d10007'
down_revision = 'f3a1c0de0006'
branch_labels = None
depends_on = None


LINK_BY_EMAIL = """
UPDATE contacts SET user_id = (
    SELECT u.id FROM users u
    WHERE u.agency_id = contacts.agency_id
      AND lower(u.email) = lower(contacts.email)
      AND u.role IN ('partner', 'partner_lead')
      AND u.disabled_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM contacts linked WHERE linked.user_id = u.id)
)
WHERE contacts.user_id IS NULL
  AND contacts.status = 'active'
  AND contacts.email <> ''
  AND (
    SELECT count(*) FROM contacts same
    WHERE same.agency_id = contacts.agency_id AND same.status = 'active'
      AND same.user_id IS NULL AND lower(same.email) = lower(contacts.email)
  ) = 1
  AND EXISTS (
    SELECT 1 FROM users u
    WHERE u.agency_id = contacts.agency_id
      AND lower(u.email) = lower(contacts.email)
      AND u.role IN ('partner', 'partner_lead')
      AND u.disabled_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM contacts linked WHERE linked.user_id = u.id)
  )
"""


LEAVERS_ACCOUNTS = "SELECT user_id FROM contacts WHERE status = 'left' AND user_id IS NOT NULL"
CLOSE_LEAVERS = f"UPDATE users SET disabled_at = CURRENT_TIMESTAMP WHERE disabled_at IS NULL AND id IN ({LEAVERS_ACCOUNTS})"
END_LEAVERS_SESSIONS = (
    "UPDATE auth_sessions SET ended_at = CURRENT_TIMESTAMP, end_reason = 'left' "
    f"WHERE ended_at IS NULL AND user_id IN ({LEAVERS_ACCOUNTS})"
)


def upgrade():
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('items', sa.JSON(), nullable=True))
    op.execute(LINK_BY_EMAIL)
    op.execute(END_LEAVERS_SESSIONS)
    op.execute(CLOSE_LEAVERS)


def downgrade():
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_column('items')
