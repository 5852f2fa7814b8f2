"""Fixtures of the owners' tests: an owner account in whichever table the test module uses."""

import pytest
from django.contrib.auth.hashers import make_password

from owners import services

PASSWORD = "plum-orchard-lantern-42"


@pytest.fixture
def table(moto_table: str) -> str:
    """The table the account is made in: moto here; a module may override it (DynamoDB Local)."""
    return moto_table


@pytest.fixture
def alex(table: str, fast_passwords: None) -> str:
    """An active owner account `alex` whose password is PASSWORD."""
    services.account_create(username="alex", password_hash=make_password(PASSWORD))
    return "alex"
