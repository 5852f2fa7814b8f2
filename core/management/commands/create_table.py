from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core import dynamodb
from core.failures import TableUnavailable


class Command(BaseCommand):
    help = (
        "Create the DynamoDB table named by DYNAMODB_TABLE if it does not exist "
        "(partition key pk, on-demand billing, TTL on expires). Safe to run again."
    )

    def handle(self, *args: object, **options: object) -> None:
        where = dynamodb.table_location()
        try:
            created = dynamodb.table_ensure()
        except TableUnavailable as error:
            raise CommandError(f"Could not reach DynamoDB at {where}: {error.__cause__}") from error
        state = "created" if created else "already exists"
        self.stdout.write(f"Table {settings.DYNAMODB_TABLE} {state} ({where}).")
