"""The audit log: every change and sign-in is chained; the verifier names
the first entry that was altered, removed or reordered."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from hub import audit
from hub.audit import AuditEvent, verify_chain
from hub.db import db
from hub.permissions import SYSTEM, Role
from tests.helpers import make_user, sign_in


def _write(n: int) -> list[AuditEvent]:
    """Write ``n`` entries and seal them into the chain, as the scheduler would a moment later."""
    events = [audit.record(SYSTEM, "test.event", object_type="thing", object_id=i, n=i) for i in range(n)]
    audit.seal()
    return events


def _tamper(sql: str, **params) -> None:
    # A database superuser can bypass the append-only trigger; the chain still tells.
    db.session.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    db.session.execute(sa.text(sql), params)
    db.session.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    db.session.expire_all()


def test_chain_verifies_when_clean(app):
    _write(5)
    report = verify_chain()
    assert report.ok and report.checked >= 5
    result = app.test_cli_runner().invoke(args=["hub", "audit", "verify"])
    assert result.exit_code == 0
    assert "intact" in result.output


def test_altered_entry_is_named(app):
    events = _write(5)
    target = events[2]
    _tamper("UPDATE audit_events SET data = '{\"n\": 99}' WHERE seq = :seq", seq=target.seq)
    report = verify_chain()
    assert not report.ok and report.broken_seq == target.seq
    result = app.test_cli_runner().invoke(args=["hub", "audit", "verify"])
    assert result.exit_code == 1
    assert f"entry {target.seq}" in result.output


def test_deleted_entry_is_named(app):
    seq = _write(4)[1].seq
    _tamper("DELETE FROM audit_events WHERE seq = :seq", seq=seq)
    report = verify_chain()
    assert report.broken_seq == seq and "missing" in report.reason


def test_rewritten_hash_breaks_the_next_link(app):
    events = _write(4)
    _tamper("UPDATE audit_events SET action = 'x', hash = :h WHERE seq = :seq", h="0" * 64, seq=events[1].seq)
    report = verify_chain()
    assert report.broken_seq == events[1].seq


def test_the_database_refuses_updates_and_deletes(app):
    _write(1)
    db.session.commit()

    with pytest.raises(sa.exc.ProgrammingError, match="append-only"):
        db.session.execute(sa.text("UPDATE audit_events SET action = 'x'"))
    db.session.rollback()


def test_changes_and_sign_ins_are_audited_with_who_and_where(client):
    from tests.helpers import sign_in

    user = make_user()
    sign_in(client, user)
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "auth.signed_in")).one()
    assert event.actor_kind == "user" and event.actor_id == user.id and event.occurred_at is not None


def test_audit_page_is_for_admins_only(client):
    from hub.permissions import Role
    from tests.helpers import sign_in

    sign_in(client, make_user(Role.MANAGER))
    assert client.get("/audit").status_code == 403
    admin_client = client.application.test_client()
    sign_in(admin_client, make_user(Role.ADMIN))
    page = admin_client.get("/audit?verify=1")
    assert page.status_code == 200
    assert "The chain is intact" in page.get_data(as_text=True)


# A witnessed head (security review M5) ---------------------------------------------------

HEAD_RE = re.compile(r"newest entry (\d+) sha256 ([0-9a-f]{64})")


def _verify(app, *args: str):
    return app.test_cli_runner().invoke(args=["hub", "audit", "verify", *args])


def _witness(app) -> tuple[int, str]:
    """Run verify and note the head it prints, as an outside witness would."""
    result = _verify(app)
    assert result.exit_code == 0, result.output
    match = HEAD_RE.search(result.stdout)
    assert match, result.stdout
    return int(match.group(1)), match.group(2)


def test_verify_prints_the_newest_entry_for_a_witness(app):
    """M5: the output names the newest entry's sequence number and hash."""
    events = _write(3)
    seq, digest = _witness(app)
    assert (seq, digest) == (events[-1].seq, events[-1].hash)
    assert f"Audit chain intact: {seq} entries checked; newest entry {seq} sha256 {digest}" in _verify(app).stdout


def test_new_entries_since_the_witnessed_head_are_fine(app):
    """M5: a chain that only grew since the witness saw it is intact, and says by how much."""
    _write(3)
    seq, digest = _witness(app)
    _write(4)
    result = _verify(app, "--expect-head", f"{seq}:{digest}")
    assert result.exit_code == 0, result.output
    assert "intact" in result.stdout and f"4 entries added since entry {seq}" in result.stdout


def test_deleting_the_newest_entries_is_caught_by_the_witnessed_head(app):
    """M5: deleting the newest 25 entries leaves a chain that checks out, but not against the witnessed head."""
    _write(40)
    seq, digest = _witness(app)
    _tamper("DELETE FROM audit_events WHERE seq > :keep", keep=seq - 25)
    assert _verify(app).exit_code == 0  # on its own, a shorter chain still links up
    result = _verify(app, "--expect-head", f"{seq}:{digest}")
    assert result.exit_code == 1
    assert f"entry {seq}" in result.stderr and "deleted" in result.stderr
    assert f"newest entry is now {seq - 25}" in result.stderr


def test_a_rewrite_with_every_later_hash_recomputed_is_caught_by_the_witnessed_head(app):
    """M5: changing entry N and recomputing every later hash keeps the length, but not the witnessed hash."""
    events = _write(10)
    seq, digest = _witness(app)
    target = events[3].seq
    db.session.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.seq >= target).order_by(AuditEvent.seq)).all()
    prev_hash = db.session.scalar(sa.select(AuditEvent.hash).where(AuditEvent.seq == target - 1))
    for row in rows:
        if row.seq == target:
            row.data = {"n": 999}
        row.prev_hash = prev_hash
        row.hash = row.compute_hash()
        prev_hash = row.hash
    db.session.flush()
    db.session.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    db.session.expire_all()
    assert verify_chain().ok  # the rewrite is consistent on its own
    result = _verify(app, "--expect-head", f"{seq}:{digest}")
    assert result.exit_code == 1
    assert f"entry {seq}" in result.stderr and "rewritten" in result.stderr


def test_a_malformed_expected_head_is_refused(app):
    """M5: --expect-head takes SEQ:HASH as printed by verify."""
    _write(1)
    for bad in ("12", "x:y", "0:" + "a" * 64, "3:" + "g" * 64, "3:abc"):
        result = _verify(app, "--expect-head", bad)
        assert result.exit_code == 2, (bad, result.output)
        assert "--expect-head" in result.output


def test_the_database_refuses_truncate(app):
    """M5: TRUNCATE skips row triggers; a statement trigger refuses it."""
    _write(1)
    db.session.commit()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text("TRUNCATE audit_events"))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) >= 1


# The audit viewer's page number (security review L6) ------------------------------------------


@pytest.mark.parametrize("page", ["99999999999999999999", "100001", "-3", "0", "abc", "1e9"])
def test_the_audit_page_number_never_gives_a_500(client, page):
    """L6: an absurd page number shows a page (empty or the first), never a 500."""
    sign_in(client, make_user(Role.ADMIN))
    response = client.get(f"/audit?page={page}")
    assert response.status_code == 200
