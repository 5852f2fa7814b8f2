"""The admin sign-in form, with a pause after repeated failures from one client."""

import math
from typing import Any, ClassVar

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from core.clients import client_of
from owners import services


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
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if not username or self.request is None:
            return super().clean()
        try:
            attempt = services.login_attempt_start(
                username=username, network=client_of(self.request).network
            )
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
