"""The owner's admin site: the stock Django admin, signed into with the owners' form, whose
index shows the visitor counter's figures, in the site's own pages and words (templates/admin/:
"Sign in" and "Sign out", the owner's name from the resume in the header).

It lives here, not in counter, because it is the owner's site: its sign-in, lockout and
password page are the owners'. It reads the counter only through `counter.dashboard`, so the
dependency stays one-way (owners uses counter; counter knows nothing of owners).
"""

from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from counter.services import CounterUnavailable
from owners import services
from owners.forms import NO_CLIENT, OwnerLoginForm


def _post_only_csrf_protected(view: Any) -> Any:
    """require_POST and csrf_protect for a method view (Django's own logout takes only POST)."""
    return method_decorator(require_POST)(method_decorator(csrf_protect)(view))


def _session_unconfirmed(request: HttpRequest) -> bool:
    """True if the request carries a signed-in session that DynamoDB could not check: the
    session names an account, the account could not be loaded (owners.auth.get_user treats that
    as signed out), and loading it again fails too. A session whose account answers but does
    not match (a cookie from before a logout) is just signed out."""
    username = request.session.get(SESSION_KEY)  # read first: a session that fails Django's
    if username is None or request.user.is_authenticated:  # check is flushed by request.user
        return False
    try:
        services.account_get(username=str(username))
    except services.OwnersUnavailable:
        return True
    return False


def _sign_out_here(request: HttpRequest) -> None:
    """Clear this browser's session (its cookie is deleted with the answer)."""
    request.session.flush()
    request.user = AnonymousUser()


class OwnerAdminSite(admin.AdminSite):
    index_title = "Visitors"
    login_form = OwnerLoginForm
    logout_template = "admin/signed_out.html"

    @property
    def site_header(self) -> str:  # the header's name, and every page title's
        """The owner's name, from the function settings.OWNER_NAME names (the resume's), so
        this app never imports the resume app (tests/test_layout.py)."""
        return import_string(settings.OWNER_NAME)()

    @property
    def site_title(self) -> str:
        return self.site_header

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None):
        """Django's sign-in page, titled "Sign in"; answered 503 when the form refused the
        attempt because the site cannot tell who sent it (owners.forms.NO_CLIENT): the site,
        not the owner, is at fault, and the deploy check and an alarm name the cause."""
        response = super().login(request, {"title": "Sign in", **(extra_context or {})})
        context = getattr(response, "context_data", None) or {}
        form = context.get("form")
        if form is not None and form.has_error(NON_FIELD_ERRORS, code=NO_CLIENT):
            response.status_code = 503
        return response

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None):
        # The figures' module is the owner's pages' alone: imported by the first of them, not
        # by every cold start, which imports this module for the admin's URLs (about 4 ms).
        from counter import dashboard

        period = request.GET.get("period", dashboard.DEFAULT_PERIOD)
        try:
            figures = dashboard.figures_get(period=period)
        except CounterUnavailable:
            figures = None  # the page still renders and says so
        context = {
            "figures": figures,
            "periods": [(key, name) for key, (_, name) in dashboard.PERIODS.items()],
            "period": period if period in dashboard.PERIODS else dashboard.DEFAULT_PERIOD,
            **(extra_context or {}),
        }
        return super().index(request, extra_context=context)

    def figures_csv(self, request: HttpRequest) -> HttpResponse:
        """The period's daily figures as a CSV download (503 when DynamoDB does not answer)."""
        from counter import dashboard

        period = request.GET.get("period", dashboard.DEFAULT_PERIOD)
        if period not in dashboard.PERIODS:
            period = dashboard.DEFAULT_PERIOD
        try:
            body = dashboard.figures_csv(period=period)
        except CounterUnavailable:
            return HttpResponse(
                "The visitor figures are unavailable right now.\n",
                status=503,
                content_type="text/plain; charset=utf-8",
                headers={"Retry-After": "5"},
            )
        return HttpResponse(
            body,
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="views-{period}.csv"'},
        )

    def admin_view(self, view: Any, cacheable: bool = False) -> Any:
        """Django's guard (signed in, staff, CSRF, never cached), and before it: a session that
        DynamoDB could not check gets a page saying so (503), not the sign-in page, which would
        look like a sign-out and whose sign-in would fail the same way."""
        guarded = super().admin_view(view, cacheable)

        @wraps(guarded)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if _session_unconfirmed(request):
                context = {**self.each_context(request), "title": "Sign-in could not be checked"}
                response = TemplateResponse(request, "admin/unavailable.html", context, status=503)
                add_never_cache_headers(response)
                return response
            return guarded(request, *args, **kwargs)

        return inner

    def get_urls(self) -> list[URLPattern | URLResolver]:
        """The stock admin's URLs, but: sign-out is `logout_everywhere`, which must also run
        when DynamoDB cannot confirm the session (the stock one then only redirects, ending
        nothing); the dashboard's CSV download (signed in only); and there is no "view on site"
        shortcut (`r/<type>/<id>/`), which reads content types from a SQL database the site
        does not have."""
        kept = [url for url in super().get_urls() if url.name not in {"logout", "view_on_site"}]
        logout = path("logout/", never_cache(self.logout_everywhere), name="logout")
        figures = path("figures.csv", self.admin_view(self.figures_csv), name="figures_csv")
        return [logout, figures, *kept]

    @_post_only_csrf_protected
    def logout_everywhere(self, request: HttpRequest) -> HttpResponse:
        """Sign out: end every session of the account (owners.auth.end_sessions raises its
        session version), then clear this browser's.

        When DynamoDB does not answer, this browser's session is cleared all the same and the
        page says that sessions elsewhere (other devices, a copied cookie) were not ended. A
        session DynamoDB could not check is never used to end the account's sessions: an old
        cookie must not be able to sign the owner out everywhere.
        """
        if SESSION_KEY not in request.session:
            return HttpResponseRedirect(reverse("admin:login", current_app=self.name))
        try:
            if request.user.is_authenticated:
                return super().logout(request, {"title": "Signed out"})
        except services.OwnersUnavailable:
            unconfirmed = True  # the session version may not have been raised
        else:
            unconfirmed = _session_unconfirmed(request)
        _sign_out_here(request)
        if unconfirmed:
            context = {**self.each_context(request), "title": "Signed out on this browser"}
            return TemplateResponse(request, "admin/logout_partial.html", context, status=503)
        return HttpResponseRedirect(reverse("admin:login", current_app=self.name))

    def password_change(self, request: HttpRequest, extra_context: dict[str, Any] | None = None):
        """Saving a password is a DynamoDB write done from the command line, not a form."""
        context = {**self.each_context(request), "title": "Change password"}
        return TemplateResponse(request, "admin/password_change_cli.html", context)

    def password_change_done(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """No password is ever changed here, so there is no "password changed" page to show
        (Django's says so to anyone who opens it): its address leads to the page that says how
        to change it. The command ends every session, so nobody arrives here signed in after a
        change."""
        return HttpResponseRedirect(reverse("admin:password_change", current_app=self.name))
