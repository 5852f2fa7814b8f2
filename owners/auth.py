"""Django authentication against owner accounts stored in DynamoDB."""

import contextlib
import datetime as dt
import logging
from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.hashers import check_password, make_password
from django.http import HttpRequest

from owners import services
from owners.models import Owner

logger = logging.getLogger(__name__)


def owner_from(account: services.Account) -> Owner:
    """The non-persisted user object Django's auth and admin work with."""
    return Owner(
        username=account.username,
        password=account.password_hash,
        is_active=account.active,
        is_staff=True,
        is_superuser=True,
        session_version=account.session_version,
        last_login=account.last_login,
    )


class DynamoDBBackend(BaseBackend):
    """Checks the password against the hash on the account item; inactive accounts fail."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        login_state: services.LoginState | None = None,
        **kwargs: Any,
    ) -> Owner | None:
        """The owner, if `password` is the account's and the account is active.

        With `login_state` (what the sign-in form read before the check, services.login_state_get)
        the account is not read again, and a wrong password, or a username without an account,
        is counted as a failed sign-in of the pair and the client before the answer goes out; a
        right password never is, not even on an inactive account (docs/architecture.md, Data
        model, "Sign-in attempts"). Without it nothing is counted.
        """
        if not username or password is None:
            return None
        if login_state is not None:
            account = login_state.account
        else:
            account = services.account_get(username=username)
        if account is None:
            make_password(password)  # as slow as a real check, so timing does not tell names
            _failure_record(login_state)
            return None

        def upgrade(raw: str) -> None:  # a newer hasher or more iterations: store the rehash
            nonlocal account  # the session must be signed with the stored hash and version
            account = services.account_set_password(
                username=username, password_hash=make_password(raw)
            )

        if not check_password(password, account.password_hash, setter=upgrade):
            _failure_record(login_state)
            return None
        if not account.active:
            return None
        return owner_from(account)

    def get_user(self, user_id: Any) -> Owner | None:
        try:
            account = services.account_get(username=str(user_id))
        except services.OwnersUnavailable:
            return None  # treated as signed out while DynamoDB is unreachable
        if account is None or not account.active:
            return None
        return owner_from(account)


def _failure_record(login_state: services.LoginState | None) -> None:
    """Count the wrong password of a sign-in the form started; if DynamoDB fails, the answer is
    still "wrong password" (which it was), and the log says the failure may be uncounted."""
    if login_state is None:
        return
    try:
        services.login_failure_record(state=login_state)
    except services.OwnersUnavailable:
        logger.warning("A wrong password may not have been counted as a failed sign-in.")


def record_last_login(sender: Any, request: HttpRequest, user: Owner, **kwargs: Any) -> None:
    """Receiver of user_logged_in: the last login goes on the account item, not the ORM."""
    try:
        services.account_record_login(username=user.username, when=dt.datetime.now(dt.UTC))
    except (services.OwnersUnavailable, services.AccountNotFound):
        logger.warning("Could not record the last login of %s", user.username)


def end_sessions(
    sender: Any, request: HttpRequest | None, user: Owner | None, **kwargs: Any
) -> None:
    """Receiver of user_logged_out: raise the account's session version, so that every
    session of the account, a cookie copied before this logout included, stops being valid.

    It runs before Django clears the session; if DynamoDB does not answer, OwnersUnavailable
    stops the logout there, and the admin says the sessions are still open (owners.admin).
    """
    if user is None:
        return
    with contextlib.suppress(services.AccountNotFound):  # no account: no session to end
        services.account_end_sessions(username=user.username)
