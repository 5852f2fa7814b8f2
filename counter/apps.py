from django.apps import AppConfig


class CounterConfig(AppConfig):
    """Page views, the day's figures and the owner dashboard's figures."""

    name = "counter"
    verbose_name = "Visitor counter"
