"""The password rules (security review L8): at least 12 characters, at most
128, not the email's local part, not too few different characters, and not
one of the 30,000 most common passwords of the list zxcvbn maintains."""

from __future__ import annotations

import subprocess
import sys

from hub.auth import passwords
from hub.auth.models import User
from hub.db import db
from hub.permissions import Role
from tests.helpers import PASSWORD, csrf_token, make_user, sign_in


def _common_long_passwords(count: int) -> list[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return [p for p in FREQUENCY_LISTS["passwords"] if len(p) >= 12 and len(set(p)) >= 4][:count]


def test_a_common_password_from_the_maintained_list_is_refused(client):
    """L8: a 12+ character password from the 30,000 most common is refused, in any case."""
    common = _common_long_passwords(3)
    assert len(common) == 3
    user = make_user(Role.MANAGER)
    sign_in(client, user)
    for password in [*common, common[0].upper()]:
        token = csrf_token(client, "/account/password")
        response = client.post(
            "/account/password", data={"csrf_token": token, "current_password": PASSWORD, "new_password": password}
        )
        assert response.status_code == 422, password
        assert "Password is too easy to guess: choose a longer phrase" in response.get_data(as_text=True)
    assert passwords.verify_password(db.session.get(User, user.id).password_hash, PASSWORD)


def test_the_password_rules_still_hold_and_a_good_phrase_is_accepted():
    """L8: the length, email and variety rules still apply; a long phrase passes."""
    assert passwords.password_problems("paper lantern over quiet harbour", "kim@example.org") == []
    assert passwords.password_problems("short") == ["Password must be 12 characters or more"]
    assert passwords.password_problems("x" * 129) != []
    assert passwords.password_problems("abababababab") == ["Password is too easy to guess: choose a longer phrase"]
    assert passwords.password_problems("kimberley-at-home-1", "kimberley@example.org") == [
        "Password must not contain your email address"
    ]


def test_the_blocklist_is_loaded_only_when_a_password_is_checked():
    """L8: importing the password module (every web worker does) does not load 30,000 entries."""
    script = (
        "import sys, hub.auth.passwords as p; a = 'zxcvbn' in sys.modules; "
        "p.password_problems('paper lantern over quiet harbour'); print(a, 'zxcvbn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)  # noqa: S603
    assert out.stdout.split() == ["False", "True"]
