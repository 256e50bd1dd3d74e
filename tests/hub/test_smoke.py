from tests.helpers import make_user, sign_in


def test_signed_in_practitioner_sees_home(client):
    user = make_user()
    sign_in(client, user)
    response = client.get("/")
    assert response.status_code == 200
    assert user.name in response.get_data(as_text=True)


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/directory")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
