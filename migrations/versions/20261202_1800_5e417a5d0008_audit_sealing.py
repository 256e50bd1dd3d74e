"""The audit log without a global lock: entries are written unsealed and sealed into the chain after.

- ``audit_events.seq``, ``prev_hash`` and ``hash`` may be null: an entry's place in the chain is
  given by ``hub.audit.seal`` after the transaction that wrote it commits.
- The append-only trigger (PostgreSQL) now allows exactly one UPDATE: sealing an unsealed entry
  (setting those three, changing nothing else). DELETE and TRUNCATE are refused as before.

Revision ID: 5e417a5d0008
Revises: 1ae8d5be4ba2
Create Date: 2026-12-02 18:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5e417a5d0008'
down_revision = '1ae8d5be4ba2'
branch_labels = None
depends_on = None

SEALING_ONLY = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
     AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
     AND NEW.id = OLD.id
     AND NEW.occurred_at = OLD.occurred_at
     AND NEW.actor_kind = OLD.actor_kind
     AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
     AND NEW.actor_agency_id IS NOT DISTINCT FROM OLD.actor_agency_id
     AND NEW.action = OLD.action
     AND NEW.object_type IS NOT DISTINCT FROM OLD.object_type
     AND NEW.object_id IS NOT DISTINCT FROM OLD.object_id
     AND NEW.channel = OLD.channel
     AND NEW.ip IS NOT DISTINCT FROM OLD.ip
     AND NEW.data::text = OLD.data::text
  THEN
    RETURN NEW;  -- sealing: the entry gets its place in the chain, and nothing else changes
  END IF;
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql
"""

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql
"""


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=True)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SEALING_ONLY)


def downgrade():
    # Seal everything first (hub audit verify does), or this refuses the unsealed entries.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
