"""owners/models.py: the session auth hash, which Django checks on every request."""

from owners.models import Owner

STORED_HASH = "pbkdf2_sha256$1$salt$hash"  # the form of a stored hash; no real password


def _owner(*, password: str = STORED_HASH, version: int = 0) -> Owner:
    return Owner(username="alex", password=password, session_version=version)


def test_the_session_hash_changes_with_the_session_version():
    assert _owner(version=0).get_session_auth_hash() == _owner(version=0).get_session_auth_hash()
    assert _owner(version=0).get_session_auth_hash() != _owner(version=1).get_session_auth_hash()


def test_the_session_hash_changes_with_the_password_hash():
    first, second = _owner(password="a"), _owner(password="b")
    assert first.get_session_auth_hash() != second.get_session_auth_hash()


def test_the_session_hash_depends_on_the_secret_key(settings):
    before = _owner().get_session_auth_hash()
    settings.SECRET_KEY = "another-secret-" * 4
    assert _owner().get_session_auth_hash() != before


def test_an_old_secret_key_still_gives_the_fallback_hash_with_the_version(settings):
    old = _owner(version=3).get_session_auth_hash()
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "another-secret-" * 4
    assert list(_owner(version=3).get_session_auth_fallback_hash()) == [old]
    assert old not in list(_owner(version=4).get_session_auth_fallback_hash())
