from django.apps import AppConfig


class CounterConfig(AppConfig):
    name = "counter"
    verbose_name = "Visitor counter"

    def ready(self) -> None:
        # Connects the receiver that rebinds the models when DynamoDB settings change.
        from counter import models  # noqa: F401
