"""The admin sign-in form, with a pause after repeated failures from one client."""

import math
from typing import Any, ClassVar

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.http import HttpRequest

from core.clients import client_of
from owners import services

NO_CLIENT = "no_client"  # the error code of a sign-in whose sender is unknown (Client.known)


def _wait(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


class OwnerLoginForm(AdminAuthenticationForm):
    error_messages: ClassVar[dict[str, str]] = {
        **AdminAuthenticationForm.error_messages,
        # What is paused (owners.services.Paused): the username from this network, or the
        # network, whatever the username.
        "locked": (
            "Too many failed sign-in attempts for this username from your network address. "
            "Signing in as this username from it is paused; try again in %(wait)s."
        ),
        "locked_network": (
            "Too many failed sign-in attempts from your network address. Signing in from it is "
            "paused for every username; try again in %(wait)s."
        ),
        "unavailable": "Sign-in is unavailable right now (the database did not answer).",
        NO_CLIENT: (
            "Sign-in is unavailable: the site cannot tell where this request came from, so it "
            "cannot pause repeated failed attempts from it. The site's deploy check and its "
            "alarm name the cause."
        ),
    }

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.label_suffix = ""  # "Username", as the site writes labels, not "Username:"
        # Django gives the field the user model's max_length (150) but checks nothing with it:
        # a longer name went on to DynamoDB, which refuses keys over 2 KB.
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))

    def clean(self) -> dict[str, Any]:
        """Read the account and the pause, refuse a paused sign-in unchecked, then check the
        password: the backend counts a wrong one as a failure; nothing else is ever counted
        (docs/architecture.md, Data model, "Sign-in attempts")."""
        if self.request is None:
            return super().clean()
        client = client_of(self.request)
        if not client.known:
            # No network to count failures under (docs/architecture.md, "The client's IP
            # address"): refused before any password check or read; the admin answers 503.
            raise ValidationError(self.error_messages[NO_CLIENT], code=NO_CLIENT)
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return super().clean()
        try:
            state = services.login_state_get(username=username, network=client.network)
            if state.retry_after:
                code = "locked_network" if state.paused is services.Paused.NETWORK else "locked"
                raise ValidationError(
                    self.error_messages[code], code=code, params={"wait": _wait(state.retry_after)}
                )
            self.user_cache = authenticate(
                self.request, username=username, password=password, login_state=state
            )
        except services.OwnersUnavailable:
            raise ValidationError(self.error_messages["unavailable"], code="unavailable") from None
        if self.user_cache is None:
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
