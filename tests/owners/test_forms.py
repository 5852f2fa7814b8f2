"""owners/forms.py: the sign-in form's pause after failures, on moto's DynamoDB."""

from django.test import RequestFactory

from owners.forms import OwnerLoginForm
from resume_site.clients import Client
from tests.conftest import ALICE, CLOSED_ENDPOINT
from tests.owners.conftest import PASSWORD


def _form(username: str, password: str, client: Client = ALICE) -> OwnerLoginForm:
    request = RequestFactory().post(
        "/admin/login/", REMOTE_ADDR=client.ip, HTTP_USER_AGENT=client.user_agent
    )
    return OwnerLoginForm(request, data={"username": username, "password": password})


def _codes(form: OwnerLoginForm) -> list[str]:
    return [error.code for error in form.non_field_errors().as_data()]


def test_the_right_password_signs_in_the_owner(alex):
    form = _form(alex, PASSWORD)
    assert form.is_valid()
    assert form.get_user().username == alex


def test_a_wrong_password_counts_a_failure_against_the_name_and_the_client(alex, table_scan):
    form = _form(alex, "wrong-guess")
    assert not form.is_valid()
    assert _codes(form) == ["invalid_login"]
    failures = sorted(
        item["pk"]["S"] for item in table_scan() if item["pk"]["S"].startswith("login-failures#")
    )
    assert len(failures) == 2
    assert failures[0].startswith("login-failures#client#")
    assert failures[1].startswith("login-failures#user#alex#")
    assert ALICE.ip not in failures[0]


def test_past_the_limit_the_right_password_is_refused_with_the_pause(alex, settings):
    settings.LOGIN_MAX_FAILURES = 2
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 900
    for _ in range(2):
        assert not _form(alex, "wrong-guess").is_valid()
    form = _form(alex, PASSWORD)
    assert not form.is_valid()
    assert _codes(form) == ["locked"]
    assert "try again in 15 minutes" in str(form.non_field_errors())


def test_an_unreachable_table_refuses_sign_in_as_unavailable(alex, settings):
    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    form = _form(alex, PASSWORD)
    assert not form.is_valid()
    assert _codes(form) == ["unavailable"]
