"""Directory search finds the person, not only the agency: under each agency found, the contacts
whose name, role or "good for" matched, with how to reach them.

Contacts who have left are left out, for everyone: whoever searches wants someone they can reach
today, and a partner must not learn who left another agency (tests/agencies/test_access_matrix.py
holds that rule too)."""

from __future__ import annotations

import re

import pytest

from agencies.models import AgencyKind, ContactStatus
from hub.db import db
from hub.permissions import Role
from tests.helpers import make_agency, make_contact, make_user, sign_in


def _text(response) -> str:
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def probation():
    agency = make_agency(AgencyKind.PROBATION, name="City Probation")
    devi = make_contact(
        agency, name="Devi Anand", role="Probation officer", knowledge="Good on recall risk", phone="07700 900001"
    )
    marion = make_contact(agency, name="Marion Hale", role="Senior officer", knowledge="Licence appointments")
    paula = make_contact(
        agency,
        name="Paula Strand",
        role="Team manager",
        knowledge="Knew the recall panel",
        status=ContactStatus.LEFT,
        successor_id=marion.id,
    )
    agency.key_contact_id = marion.id
    db.session.flush()
    return agency, devi, marion, paula


def test_searching_what_a_contact_is_good_for_lists_her_under_her_agency(client, probation):
    _agency, devi, marion, _paula = probation
    sign_in(client, make_user(Role.PARTNER))  # a partner from another agency
    response = client.get("/directory?q=recall")
    page = _text(response)
    assert "City Probation" in page
    assert "Contact matching “recall”" in page
    assert "Devi Anand , Probation officer" in page or "Devi Anand, Probation officer" in page
    assert "Good for: Good on recall risk" in page
    html = response.get_data(as_text=True)
    assert f'href="/contacts/{devi.id}"' in html
    assert 'href="tel:07700900001"' in html and f'href="mailto:{devi.email}"' in html
    assert "Marion Hale" in page  # the key contact column still names her
    assert f'href="/contacts/{marion.id}"' not in html  # but she did not match, so she is not listed


def test_searching_a_contacts_name_or_role_finds_her(client, probation):
    _agency, devi, _marion, _paula = probation
    sign_in(client, make_user(Role.PRACTITIONER))
    by_name = client.get("/directory?q=devi").get_data(as_text=True)
    assert f'href="/contacts/{devi.id}"' in by_name
    by_role = client.get("/directory?q=probation+officer").get_data(as_text=True)
    assert f'href="/contacts/{devi.id}"' in by_role


@pytest.mark.parametrize("role", [Role.MANAGER, Role.PRACTITIONER, Role.PARTNER_LEAD, Role.PARTNER])
def test_contacts_who_left_are_never_listed_nor_found(client, probation, role):
    agency, devi, _marion, paula = probation
    own = role in (Role.PARTNER_LEAD, Role.PARTNER)
    sign_in(client, make_user(role, agency=agency if own else None))
    recall = client.get("/directory?q=recall").get_data(as_text=True)  # Devi matches; so did Paula, who left
    assert f'href="/contacts/{devi.id}"' in recall
    assert "Paula Strand" not in recall and f'href="/contacts/{paula.id}"' not in recall
    by_name = _text(client.get("/directory?q=paula"))
    assert "Paula Strand" not in by_name and "City Probation" not in by_name
    assert "0 agencies found" in by_name


def test_many_matches_are_capped_with_a_link_to_the_rest(client):
    agency = make_agency(AgencyKind.HOUSING, name="Big Housing")
    make_contact(agency, name="Aaron Left", role="Housing officer", status=ContactStatus.LEFT)
    for n in range(7):
        make_contact(agency, name=f"Officer {n}", role="Housing officer")
    sign_in(client, make_user(Role.MANAGER))
    response = client.get("/directory?q=housing+officer")
    listed = re.findall(r'href="/contacts/\d+">([^<]+)</a>', response.get_data(as_text=True))
    assert listed == [f"Officer {n}" for n in range(5)]  # five shown, by name; the leaver not at all
    assert "2 more matching at Big Housing" in _text(response)


def test_an_agency_found_by_its_own_name_lists_no_contacts(client, probation):
    sign_in(client, make_user(Role.PRACTITIONER))
    page = _text(client.get("/directory?q=city+probation"))
    assert "City Probation" in page and "matching" not in page


def test_search_text_with_sql_wildcards_matches_only_itself(client, probation):
    sign_in(client, make_user(Role.PRACTITIONER))
    page = _text(client.get("/directory?q=%25"))
    assert "0 agencies found" in page
    page = _text(client.get("/directory?q=_"))
    assert "0 agencies found" in page
