"""The built Lambda package works: real API Gateway REST (v1) proxy events, sent to Zappa's
`handler.lambda_handler` imported from the unzipped zip in a fresh Python 3.13 process, with the
SECRET_KEY from the remote_env S3 object (moto) and the counter on DynamoDB Local."""

import base64
import json
import os
import re
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from scripts import build_package

pytestmark = pytest.mark.dynamodb_local

ROOT = Path(__file__).resolve().parent.parent.parent
API_HOST = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
CLIENT_IP = "203.0.113.7"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) package-test"


def rest_event(
    method: str,
    path: str,
    *,
    proto: str = "https",
    headers: dict[str, str] | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST API (payload v1) proxy-integration event, as API Gateway sends it."""
    all_headers = {
        "Accept": "text/html,application/json",
        "Host": API_HOST,
        "User-Agent": USER_AGENT,
        "X-Forwarded-For": CLIENT_IP,
        "X-Forwarded-Port": "443" if proto == "https" else "80",
        "X-Forwarded-Proto": proto,
        **(headers or {}),
    }
    now = time.time()
    return {
        "resource": "/" if path == "/" else "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None if path == "/" else {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": "/" if path == "/" else "/{proxy+}",
            "httpMethod": method,
            "extendedRequestId": "Xyz=",
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/prod{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "prod",
            "domainPrefix": API_HOST.split(".")[0],
            "requestTimeEpoch": int(now * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": CLIENT_IP, "userAgent": USER_AGENT},
            "domainName": API_HOST,
            "apiId": API_HOST.split(".")[0],
        },
        "body": body,
        "isBase64Encoded": False,
    }


def respond(lambda_process, event: dict[str, Any]) -> dict[str, Any]:
    """The handler's response to an event; the test fails if the handler raised instead."""
    answer = lambda_process.invoke(event)
    assert "response" in answer, answer.get("raised")
    return answer["response"]


def body_text(response: dict[str, Any]) -> str:
    body = response.get("body", "")
    return base64.b64decode(body).decode() if response.get("isBase64Encoded") else body


def test_package_is_within_the_size_budget_and_holds_no_sdk_or_compiled_code(
    package_zip: Path,
) -> None:
    assert package_zip.stat().st_size <= 8 * 1024 * 1024
    with zipfile.ZipFile(package_zip) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
        compiled = [name for name in archive.namelist() if name.endswith((".so", ".pyc"))]
    assert {"handler.py", "zappa_settings.py", "django", "resume_site", "counter"} <= tops
    assert not tops & {"boto3", "botocore", "s3transfer", "tests", "node_modules", "build"}
    assert compiled == []


def test_package_has_no_admin_static_or_unused_locales(package_zip: Path) -> None:
    with zipfile.ZipFile(package_zip) as archive:
        names = archive.namelist()
    assert not [n for n in names if n.startswith("django/contrib/admin/static/")]
    assert not [n for n in names if n.endswith((".mo", ".po"))]
    locales = {
        n.split("/")[3] for n in names if n.startswith("django/conf/locale/") and n.count("/") > 3
    }
    assert locales == {"en"}


def test_package_carries_no_secret_key_only_the_remote_env_pointer(
    package_zip: Path, stage_config: dict[str, Any]
) -> None:
    with zipfile.ZipFile(package_zip) as archive:
        generated = archive.read("zappa_settings.py").decode()

    assert "SECRET_KEY" not in generated
    assert f"REMOTE_ENV='{stage_config['remote_env']}'" in generated
    assert "LOG_LEVEL='WARNING'" in generated
    assert "DEBUG=False" in generated


@pytest.mark.slow
def test_zappa_run_from_the_dev_venv_packages_the_clean_build_venv(
    package_zip: Path, tmp_path: Path
) -> None:
    """`zappa package prod` (as `zappa update prod` builds) started from the dev venv: the
    settings callback points Zappa at build/venv, so no dev package reaches the zip."""
    output = tmp_path / "from-dev-venv.zip"
    env = {**os.environ, "VIRTUAL_ENV": sys.prefix}
    result = subprocess.run(
        [str(Path(sys.prefix) / "bin" / "zappa"), "package", "prod", "-o", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Packaging venv (requirements.txt only), not the active virtualenv." in result.stdout
    with zipfile.ZipFile(output) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
    assert {"django", "pynamodb", "zappa"} <= tops
    assert not tops & {"pytest", "_pytest", "moto", "ruff", "pytest_django", "cfnlint"}


def loaded_zappa_cli(*, stage: str, zip_path: Path) -> Any:
    """Zappa's CLI object as `zappa update <stage> --zip <zip_path>` has it when the settings
    callback runs (settings loaded from the working directory)."""
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.command, cli.api_stage = "update", stage
    cli.vargs = {"zip": str(zip_path)}
    cli.load_settings(str(ROOT / "zappa_settings.json"))
    return cli


def test_the_built_zip_matches_what_zappa_update_would_ship(package_zip: Path) -> None:
    from resume_site import zappa_checks

    cli = loaded_zappa_cli(stage="prod", zip_path=package_zip)
    assert zappa_checks.check_prebuilt_zip(cli) is None


def test_a_zip_built_for_another_stage_is_refused(package_zip: Path, tmp_path: Path) -> None:
    import click

    from resume_site import zappa_checks

    dev_settings = loaded_zappa_cli(stage="dev", zip_path=package_zip).get_zappa_settings_string()
    dev_zip = tmp_path / "resume-site-dev.zip"
    with zipfile.ZipFile(package_zip) as source, zipfile.ZipFile(dev_zip, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, dev_settings if item.filename == "zappa_settings.py" else data)
    cli = loaded_zappa_cli(stage="prod", zip_path=dev_zip)

    with pytest.raises(click.ClickException) as raised:
        zappa_checks.check_prebuilt_zip(cli)
    assert "resume-site-dev.zip was built for stage 'dev'" in raised.value.format_message()


def test_unchanged_inputs_reuse_the_previous_build(package_zip: Path) -> None:
    before = package_zip.stat().st_mtime_ns
    assert build_package.build(stage="prod") == package_zip
    assert package_zip.stat().st_mtime_ns == before


def test_resume_page_renders_with_security_headers(lambda_process) -> None:
    response = respond(lambda_process, rest_event("GET", "/"))
    resume = json.loads((ROOT / "resume_site" / "data" / "resume.json").read_text())

    assert response["statusCode"] == 200
    headers = response["headers"]
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert resume["basics"]["name"] in body_text(response)


def test_resume_page_links_hashed_static_files_on_the_static_domain(
    lambda_process, stage_config: dict[str, Any]
) -> None:
    domain = stage_config["environment_variables"]["STATIC_DOMAIN"]
    page = body_text(respond(lambda_process, rest_event("GET", "/")))
    static_urls = re.findall(r'(?:href|src)="(https://[^"]+/static/[^"]+)"', page)

    assert static_urls
    for url in static_urls:
        assert url.startswith(f"https://{domain}/static/")
        assert re.search(r"\.[0-9a-f]{12}\.(css|js|svg)$", url), url


def test_plain_http_is_redirected_to_https(lambda_process) -> None:
    response = respond(lambda_process, rest_event("GET", "/", proto="http"))

    assert response["statusCode"] == 301
    assert response["headers"]["Location"] == f"https://{API_HOST}/prod/"


def test_each_post_to_the_counter_adds_exactly_one(lambda_process) -> None:
    first = respond(lambda_process, rest_event("POST", "/api/count", body=""))
    second = respond(lambda_process, rest_event("POST", "/api/count", body=""))

    assert first["statusCode"] == second["statusCode"] == 200
    assert first["headers"]["Content-Type"] == "application/json"
    assert "no-store" in first["headers"]["Cache-Control"]
    assert json.loads(second["body"])["count"] == json.loads(first["body"])["count"] + 1


def test_get_count_reads_the_total_without_counting(lambda_process) -> None:
    posted = respond(lambda_process, rest_event("POST", "/api/count", body=""))
    read = respond(lambda_process, rest_event("GET", "/api/count"))
    read_again = respond(lambda_process, rest_event("GET", "/api/count"))

    assert read["statusCode"] == 200
    assert json.loads(read["body"]) == json.loads(posted["body"])
    assert json.loads(read_again["body"]) == json.loads(posted["body"])


def test_admin_login_page_renders_and_sets_a_secure_csrf_cookie(lambda_process) -> None:
    response = respond(lambda_process, rest_event("GET", "/admin/login/"))

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"
    cookies = response["multiValueHeaders"]["Set-Cookie"]
    csrf = [cookie for cookie in cookies if cookie.startswith("csrftoken=")]
    # Zappa's middleware emits each Set-Cookie twice (as "Set-Cookie" and "set-cookie"), so
    # the same cookie may appear twice; what matters is one token, sent over HTTPS only.
    assert len(set(csrf)) == 1, cookies
    assert "; Secure" in csrf[0]
    assert 'name="csrfmiddlewaretoken"' in body_text(response)


def test_unknown_path_is_a_404(lambda_process) -> None:
    response = respond(lambda_process, rest_event("GET", "/no-such-page"))

    assert response["statusCode"] == 404
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"


def test_malformed_event_gets_an_answer_without_a_traceback(lambda_process) -> None:
    malformed = {"httpMethod": "GET", "headers": None, "requestContext": {}}
    response = respond(lambda_process, malformed)

    assert response["statusCode"] == 500
    assert "uncaught exception" in response["body"]
    assert "Traceback" not in response["body"]


def test_the_process_keeps_serving_after_malformed_events(lambda_process) -> None:
    bad_base64 = rest_event("POST", "/api/count", body="%%% not base64 %%%")
    bad_base64["isBase64Encoded"] = True
    for event in ({"httpMethod": "GET"}, bad_base64, {"unexpected": ["shape"]}):
        assert "response" in lambda_process.invoke(event)

    assert lambda_process.alive()
    assert respond(lambda_process, rest_event("GET", "/api/count"))["statusCode"] == 200
