import datetime as dt
import os
import pytest
import tests.consent.test_property_disclosures as prop
from consent.models import ConsentRecord, SafeguardingDecision, SafeguardingStatus

def ignore_withdrawal(self, moment, on):
    return self.given_on <= on <= self.expires_on

def one_day_late(self, moment, on):
    if self.withdrawn_at is not None and self.withdrawn_at <= moment:
        return False
    return self.given_on <= on <= self.expires_on + dt.timedelta(days=1)

orig_dec = SafeguardingDecision.valid_at
def pending_shares(self, moment, on):
    if self.status is SafeguardingStatus.PENDING:
        return on <= self.review_on
    return orig_dec(self, moment, on)

def review_ignored(self, moment, on):
    start = self.shares_from()
    if start is None or start > moment or self.status in {SafeguardingStatus.REJECTED, SafeguardingStatus.PENDING}:
        return False
    return not (self.ended_at is not None and self.ended_at <= moment)

MUTANTS = {"ignore_withdrawal": (ConsentRecord, ignore_withdrawal), "one_day_late": (ConsentRecord, one_day_late),
           "pending_shares": (SafeguardingDecision, pending_shares), "review_ignored": (SafeguardingDecision, review_ignored)}

@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutant(app, monkeypatch, name):
    cls, fn = MUTANTS[name]
    monkeypatch.setattr(cls, "valid_at", fn)
    prop.test_no_disclosure_without_a_valid_basis_at_that_moment(app)
