"""owners/auth.py: the authentication backend over DynamoDB accounts (moto)."""

import datetime as dt

import pytest
from django.contrib.auth import user_logged_in, user_logged_out
from django.contrib.auth.hashers import make_password
from django.test import Client

from owners import services
from owners.auth import DynamoDBBackend
from tests.owners.conftest import PASSWORD


def test_the_right_password_gives_a_staff_owner(alex):
    user = DynamoDBBackend().authenticate(None, username=alex, password=PASSWORD)
    assert user.username == "alex"
    assert user.is_active and user.is_staff and user.is_superuser
    assert user.has_perm("anything.at_all")  # the owner may use every admin view


def test_a_wrong_password_or_unknown_name_gives_nothing(alex):
    backend = DynamoDBBackend()
    assert backend.authenticate(None, username=alex, password="wrong password!") is None
    assert backend.authenticate(None, username="kim", password=PASSWORD) is None
    assert backend.authenticate(None, username="", password=PASSWORD) is None
    assert backend.authenticate(None, username=alex, password=None) is None


def test_an_inactive_account_cannot_sign_in_or_stay_signed_in(alex):
    services.account_set_active(username=alex, active=False)
    backend = DynamoDBBackend()
    assert backend.authenticate(None, username=alex, password=PASSWORD) is None
    assert backend.get_user(alex) is None


def test_get_user_rebuilds_the_owner_from_the_item(alex):
    services.account_end_sessions(username=alex)
    user = DynamoDBBackend().get_user(alex)
    assert user.username == alex
    assert user.password == services.account_get(username=alex).password_hash
    assert user.session_version == 1
    assert DynamoDBBackend().get_user("kim") is None


def test_get_user_is_signed_out_while_dynamodb_is_unreachable():
    # The autouse fixture points DynamoDB at a closed port.
    assert DynamoDBBackend().get_user("alex") is None


def test_an_old_hash_is_upgraded_on_sign_in(moto_table, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    services.account_create(username="alex", password_hash=make_password(PASSWORD))
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    user = DynamoDBBackend().authenticate(None, username="alex", password=PASSWORD)
    stored = services.account_get(username="alex")
    assert stored.password_hash.startswith("pbkdf2_sha256$")
    # The session is signed with what is stored now, so it stays valid on the next request.
    again = DynamoDBBackend().get_user("alex")
    assert user.get_session_auth_hash() == again.get_session_auth_hash()
    assert (user.password, user.session_version) == (stored.password_hash, stored.session_version)


def test_owner_objects_are_never_saved(alex):
    user = DynamoDBBackend().get_user(alex)
    with pytest.raises(NotImplementedError, match="createadmin"):
        user.save()


def test_sign_in_records_the_last_login_on_the_item_not_the_orm(alex):
    user = DynamoDBBackend().get_user(alex)
    before = dt.datetime.now(dt.UTC)
    # Django's update_last_login would call user.save(), which raises: sending proves it is off.
    user_logged_in.send(sender=type(user), request=None, user=user)
    assert services.account_get(username=alex).last_login >= before.replace(microsecond=0)


def test_sign_in_succeeds_when_the_last_login_cannot_be_recorded(alex, monkeypatch, caplog):
    def unavailable(**kwargs):
        raise services.OwnersUnavailable()

    monkeypatch.setattr(services, "account_record_login", unavailable)
    browser = Client()
    assert browser.login(username=alex, password=PASSWORD)
    assert "Could not record the last login of alex" in caplog.text
    assert browser.get("/admin/password_change/").status_code == 200  # signed in
    assert services.account_get(username=alex).last_login is None


def test_logout_raises_the_session_version_of_the_account(alex):
    user = DynamoDBBackend().get_user(alex)
    user_logged_out.send(sender=type(user), request=None, user=user)
    assert services.account_get(username=alex).session_version == 1


def test_an_anonymous_logout_changes_no_account(alex):
    user_logged_out.send(sender=type(None), request=None, user=None)
    assert services.account_get(username=alex).session_version == 0


def test_a_session_from_before_a_logout_elsewhere_is_no_longer_valid(alex):
    phone, laptop = Client(), Client()
    assert phone.login(username=alex, password=PASSWORD)
    assert laptop.login(username=alex, password=PASSWORD)
    assert phone.get("/admin/password_change/").status_code == 200
    laptop.logout()
    assert phone.get("/admin/password_change/").status_code == 302
