"""The admin sign-in form, with a pause after repeated failures."""

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from owners import services
from resume_site.clients import client_of


class OwnerLoginForm(AdminAuthenticationForm):
    error_messages: ClassVar[dict[str, str]] = {
        **AdminAuthenticationForm.error_messages,
        "locked": (
            "Too many failed sign-in attempts. Sign-in is paused for this account and this "
            "device; try again in %(minutes)d minutes."
        ),
        "unavailable": "Sign-in is unavailable right now (the database did not answer).",
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if not username or self.request is None:
            return super().clean()
        try:
            subjects = services.login_subjects(username=username, client=client_of(self.request))
            if services.login_is_locked(subjects=subjects):
                minutes = settings.LOGIN_FAILURE_WINDOW_SECONDS // 60
                raise ValidationError(
                    self.error_messages["locked"], code="locked", params={"minutes": minutes}
                )
            try:
                return super().clean()
            except ValidationError as error:
                if error.code == "invalid_login":
                    services.login_failure_record(subjects=subjects)
                raise
        except services.OwnersUnavailable:
            raise ValidationError(self.error_messages["unavailable"], code="unavailable") from None
