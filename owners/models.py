"""The owner's user class: what Django's auth and admin expect of a user.

It has no table: the site has no SQL database (accounts, counts and sessions all live in
DynamoDB or signed cookies; docs/architecture.md, Decisions), and `DATABASES` is empty so any
ORM query fails loudly. Instances are built from account items by `owners.auth` and never saved.
"""

from collections.abc import Iterator
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.utils.crypto import salted_hmac

SESSION_HASH_SALT = "owners.models.Owner.get_session_auth_hash"


class Owner(AbstractBaseUser, PermissionsMixin):
    """The site owner as Django sees a user. Built from an account item; never saved."""

    username = models.CharField(max_length=150, primary_key=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=True)
    # Raised on the account item by every logout and password change (owners.services).
    session_version = models.PositiveIntegerField(default=0)

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        managed = False

    def __str__(self) -> str:
        return self.username

    def get_session_auth_hash(self) -> str:
        """What a session stores and Django compares on every request (auth.get_user).

        Django's own hash covers only the password hash, and a signed-cookie session has no
        server state to delete, so a cookie copied before a logout would stay valid until it
        expires. The session version is part of the hash: logout raises it on the account
        item, and every session signed in before stops matching.
        """
        return self._session_hash(secret=settings.SECRET_KEY)

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        """The same hash under each old key, so rotating SECRET_KEY keeps sessions valid."""
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=secret)

    def _session_hash(self, *, secret: str) -> str:
        value = f"{self.password}\n{self.session_version}"
        return salted_hmac(SESSION_HASH_SALT, value, secret=secret, algorithm="sha256").hexdigest()

    def save(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            "Owner accounts live in DynamoDB: change them with `manage.py createadmin`."
        )
