from django.apps import AppConfig
from django.contrib.admin.apps import SimpleAdminConfig


class OwnerAdminConfig(SimpleAdminConfig):
    """django.contrib.admin without autodiscovery: no model admin pages exist, because every
    model admin would query the SQL database this project does not have (rule 2)."""

    default_site = "counter.admin.OwnerAdminSite"


class CounterConfig(AppConfig):
    name = "counter"
    verbose_name = "Visitor counter"

    def ready(self) -> None:
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in

        # Rebinds the PynamoDB models when DynamoDB settings change (tests point them anywhere).
        from counter import models  # noqa: F401
        from counter.auth import record_last_login

        # auth's own receiver saves last_login through the ORM; ours writes the DynamoDB item.
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(record_last_login, dispatch_uid="record_last_login")
