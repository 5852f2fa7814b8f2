"""Shared code both apps import: the DynamoDB table, a request's client, the edge's checks."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"
