from typing import ClassVar

from django.apps import AppConfig
from django.contrib.admin.apps import SimpleAdminConfig
from django.contrib.staticfiles.apps import StaticFilesConfig


class OwnerAdminConfig(SimpleAdminConfig):
    """django.contrib.admin without autodiscovery: no model admin pages exist, because every
    model admin would query a SQL database, and the site has none (owners/models.py)."""

    default_site = "owners.admin.OwnerAdminSite"


class OwnerStaticFilesConfig(StaticFilesConfig):
    """django.contrib.staticfiles whose collectstatic leaves out the admin's vendor libraries
    (jQuery, Select2 with its translations, XRegExp): only model admin pages load them, and
    none exist, so no deploy hashes or uploads them."""

    ignore_patterns: ClassVar[list[str]] = [*StaticFilesConfig.ignore_patterns, "admin/*/vendor/*"]


class OwnersConfig(AppConfig):
    """The site owner: the user model, sign-in, its pause after failures, and accounts."""

    name = "owners"
    verbose_name = "Owner accounts"

    def ready(self) -> None:
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from owners.auth import end_sessions, record_last_login

        # auth's own receiver saves last_login through the ORM; ours writes the DynamoDB item.
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(record_last_login, dispatch_uid="record_last_login")
        user_logged_out.connect(end_sessions, dispatch_uid="end_sessions")
