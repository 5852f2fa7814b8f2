"""The admin sign-in form, with a pause after repeated failures from one client."""

import math
from typing import Any, ClassVar

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from core.clients import client_of
from owners import services

NO_CLIENT = "no_client"  # the error code of a sign-in whose sender is unknown (Client.known)


def _wait(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


class OwnerLoginForm(AdminAuthenticationForm):
    error_messages: ClassVar[dict[str, str]] = {
        **AdminAuthenticationForm.error_messages,
        "locked": (
            "Too many failed sign-in attempts from your network address. Sign-in from it is "
            "paused; try again in %(wait)s."
        ),
        "unavailable": "Sign-in is unavailable right now (the database did not answer).",
        NO_CLIENT: (
            "Sign-in is unavailable: the site cannot tell where this request came from, so it "
            "cannot pause repeated failed attempts from it. The site's deploy check and its "
            "alarm name the cause."
        ),
    }

    def clean(self) -> dict[str, Any]:
        if self.request is None:
            return super().clean()
        client = client_of(self.request)
        if not client.known:
            # No network to count failures under (docs/architecture.md, "The client's IP
            # address"): refused before any password check or write; the admin answers 503.
            raise ValidationError(self.error_messages[NO_CLIENT], code=NO_CLIENT)
        username = self.cleaned_data.get("username")
        if not username:
            return super().clean()
        try:
            attempt = services.login_attempt_start(username=username, network=client.network)
            if attempt.retry_after:
                raise ValidationError(
                    self.error_messages["locked"],
                    code="locked",
                    params={"wait": _wait(attempt.retry_after)},
                )
            # If the engine fails from here on, the attempt stays counted as one failure.
            try:
                cleaned = super().clean()
            except ValidationError as error:
                failed = error.code == "invalid_login"
                services.login_attempt_finish(attempt=attempt, failed=failed)
                raise
            services.login_attempt_finish(attempt=attempt, failed=False)
            return cleaned
        except services.OwnersUnavailable:
            raise ValidationError(self.error_messages["unavailable"], code="unavailable") from None
