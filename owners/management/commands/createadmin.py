import getpass
import os
import sys
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import dynamodb
from owners import services
from owners.models import Owner

PASSWORD_ENV = "ADMIN_PASSWORD"  # noqa: S105 (a variable name, not a password)


class Command(BaseCommand):
    stealth_options = ("stdin",)  # call_command(..., stdin=...) in tests, as createsuperuser
    help = (
        "Manage the owner accounts that sign in to /admin/ (stored in DynamoDB). "
        "Creates USERNAME by default. The password is asked twice when run in a terminal; "
        f"otherwise it is read from the {PASSWORD_ENV} environment variable (never from an "
        "argument, which would leak into shell history and process lists)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?", help="the account's username")
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--change-password", action="store_true", help="set a new password for USERNAME"
        )
        action.add_argument(
            "--deactivate", action="store_true", help="stop USERNAME from signing in"
        )
        action.add_argument("--activate", action="store_true", help="let USERNAME sign in again")
        action.add_argument("--list", action="store_true", help="list the accounts")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdin = options.get("stdin", sys.stdin)
        username = options["username"]
        try:
            if options["list"]:
                self._list()
                return
            if not username:
                raise CommandError("Name the account: createadmin USERNAME")
            if options["deactivate"] or options["activate"]:
                active = bool(options["activate"])
                services.account_set_active(username=username, active=active)
                ended = "can no longer sign in; its sessions have ended"
                state = "can sign in" if active else ended
                self.stdout.write(f"Account {username} {state}.")
            elif options["change_password"]:
                password = self._password(username)
                services.account_set_password(
                    username=username, password_hash=make_password(password)
                )
                self.stdout.write(f"Password of {username} changed; its sessions have ended.")
            else:
                password = self._password(username)
                services.account_create(username=username, password_hash=make_password(password))
                self.stdout.write(f"Account {username} created: sign in at /admin/.")
        except services.AccountExists:
            raise CommandError(
                f"Account {username} already exists; use --change-password to set a new password."
            ) from None
        except services.AccountNotFound:
            raise CommandError(f"There is no account {username}.") from None
        except services.OwnersUnavailable as error:
            where = dynamodb.table_location()
            start = (
                ". Is DynamoDB Local running? Start it with `make run` (in another terminal, "
                "any DYNAMODB_LOCAL_PORT: this command finds it), then run this again."
                if settings.DYNAMODB_ENDPOINT_URL and not settings.PRODUCTION
                else ""
            )
            raise CommandError(
                f"Could not reach table {settings.DYNAMODB_TABLE} at {where}: "
                f"{error.__cause__}{start}"
            ) from error

    def _list(self) -> None:
        accounts = services.account_list()
        if not accounts:
            self.stdout.write("No accounts yet: createadmin USERNAME makes one.")
        for account in accounts:
            state = "active" if account.active else "inactive"
            last = (
                account.last_login.isoformat(timespec="seconds") if account.last_login else "never"
            )
            self.stdout.write(f"{account.username}\t{state}\tlast login: {last}")

    def _password(self, username: str) -> str:
        if hasattr(self.stdin, "isatty") and self.stdin.isatty():
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ; nothing was changed.")
        else:
            password = os.environ.get(PASSWORD_ENV, "")
            if not password:
                raise CommandError(
                    f"No terminal to ask for the password: set the {PASSWORD_ENV} "
                    "environment variable."
                )
        try:
            password_validation.validate_password(password, Owner(username=username))
        except ValidationError as error:
            raise CommandError("Password refused: " + " ".join(error.messages)) from None
        return password
