"""The owner's user class: what Django's auth and admin expect of a user.

It has no table: the site has no SQL database (accounts, counts and sessions all live in
DynamoDB or signed cookies; docs/architecture.md, Decisions), and `DATABASES` is empty so any
ORM query fails loudly. Instances are built from account items by `owners.auth` and never saved.
"""

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models


class Owner(AbstractBaseUser, PermissionsMixin):
    """The site owner as Django sees a user. Built from an account item; never saved."""

    username = models.CharField(max_length=150, primary_key=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=True)

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        managed = False

    def __str__(self) -> str:
        return self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            "Owner accounts live in DynamoDB: change them with `manage.py createadmin`."
        )
