"""The owner's admin site: the stock Django admin, signed into with the owners' form, whose
index shows the visitor counter's figures.

It lives here, not in counter, because it is the owner's site: its sign-in, lockout and
password page are the owners'. It reads the counter only through `counter.dashboard`, so the
dependency stays one-way (owners uses counter; counter knows nothing of owners).
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from counter import dashboard
from counter.services import CounterUnavailable
from owners import services
from owners.forms import OwnerLoginForm


class OwnerAdminSite(admin.AdminSite):
    site_header = "Resume site"
    site_title = "Resume site admin"
    index_title = "Visitors"
    login_form = OwnerLoginForm

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None):
        try:
            figures = dashboard.figures_get()
        except CounterUnavailable:
            figures = None  # the page still renders and says so
        context = {"figures": figures, **(extra_context or {})}
        return super().index(request, extra_context=context)

    def logout(self, request: HttpRequest, extra_context: dict[str, Any] | None = None):
        """Logout ends every session of the account (owners.auth.end_sessions); when that
        write fails, say so and leave this session open rather than seem signed out."""
        try:
            return super().logout(request, extra_context=extra_context)
        except services.OwnersUnavailable:
            context = {**self.each_context(request), "title": "Sign-out failed"}
            return TemplateResponse(request, "admin/logout_failed.html", context, status=503)

    def password_change(self, request: HttpRequest, extra_context: dict[str, Any] | None = None):
        """Saving a password is a DynamoDB write done from the command line, not a form."""
        context = {**self.each_context(request), "title": "Change password"}
        return TemplateResponse(request, "admin/password_change_cli.html", context)
