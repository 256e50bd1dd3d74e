"""Counts stop at a cap, so a busy agency's inbox costs the same at any size: past it the page says
"more than", the API says so in a header, and the pages still go on."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from referrals import queries
from tests.helpers import sign_in
from tests.referrals.world import World, build_world, referral_in


@pytest.fixture
def world(client: FlaskClient) -> World:
    return build_world(client)


def test_past_the_cap_the_count_says_more_than_and_the_pages_go_on(
    client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "COUNT_CAP", 5)
    for _ in range(8):
        referral_in(world, "sent")
    api = client.get("/api/v1/referrals?per_page=5", headers=world.headers("own"))
    assert api.headers["X-Total-Count"] == "5" and api.headers["X-Total-Count-Capped"] == "true"
    second = client.get("/api/v1/referrals?per_page=5&page=2", headers=world.headers("own"))
    assert len(second.json) == 3
    sign_in(client, world.partner)
    page = client.get("/inbox").get_data(as_text=True)
    assert "more than 5 referrals" in page
    monkeypatch.setattr(queries, "COUNT_CAP", 1_000)
    exact = client.get("/api/v1/referrals?per_page=5", headers=world.headers("own"))
    assert exact.headers["X-Total-Count"] == "8" and "X-Total-Count-Capped" not in exact.headers
