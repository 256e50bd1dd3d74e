"""The audit log refuses TRUNCATE too.

The append-only trigger fires for each row of an UPDATE or DELETE, but
TRUNCATE touches no rows one by one, so it emptied the log without a word.
A statement-level trigger refuses it (PostgreSQL only: SQLite has no
TRUNCATE).

Revision ID: f3a1c0de0006
Revises: e1fa94688825
Create Date: 2026-12-02 15:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f3a1c0de0006'
down_revision = 'e1fa94688825'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # Reuses the function of the UPDATE/DELETE trigger: it raises "audit_events is append-only".
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
