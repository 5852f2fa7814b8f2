"""deploy/package.py: the package build and the package it builds.

The zip check (size budget, the handler's entries, the allow-list) on hand-made zips; the built
prod zip holding only what the allow-list names; the build reused when nothing changed; and the
built package working: real API Gateway REST (v1) proxy events, sent to Zappa's
`handler.lambda_handler` imported from the unzipped zip in a fresh Python 3.13 process, with
SECRET_KEY in its environment (where Lambda puts what the deploy set from the stage's
secret_env object) and the counter on DynamoDB Local."""

import base64
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy import build_venv, package, zappa_callbacks
from bench import lambda_host

ROOT = Path(__file__).resolve().parent.parent.parent
API_HOST = lambda_host.API_HOST
CLIENT_IP = "203.0.113.7"
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36 package-test"
)
REQUIRED = package.REQUIRED_ENTRIES
PROJECT_FILES = {"manage.py", "resume_site/__init__.py", "resume_site/views.py", "templates/a.html"}
RUNTIME_NAMES = {"django", "six.py"}


def rest_event(
    method: str,
    path: str,
    *,
    source_ip: str = CLIENT_IP,
    headers: dict[str, str | None] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """A REST (v1) event from the tests' client: CLIENT_IP with USER_AGENT unless given
    (options as lambda_host.rest_event)."""
    user_agent = (headers or {}).get("User-Agent", USER_AGENT)
    return lambda_host.rest_event(
        method, path, source_ip=source_ip, user_agent=user_agent, headers=headers, **options
    )


def respond(lambda_process, event: dict[str, Any]) -> dict[str, Any]:
    """The handler's response to an event; the test fails if the handler raised instead."""
    answer = lambda_process.invoke(event)
    assert "response" in answer, answer.get("raised")
    return answer["response"]


def body_text(response: dict[str, Any]) -> str:
    body = response.get("body", "")
    return base64.b64decode(body).decode() if response.get("isBase64Encoded") else body


def write_zip(path: Path, *, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def unexpected(*names: str) -> list[str]:
    return package.unexpected_entries(
        names=names, project_files=PROJECT_FILES, runtime_names=RUNTIME_NAMES
    )


def test_a_small_complete_package_passes_and_reports_its_size(tmp_path: Path) -> None:
    zipped = write_zip(tmp_path / "ok.zip", entries=dict.fromkeys(REQUIRED, b"x = 1\n"))
    assert package.check_package(path=zipped) == zipped.stat().st_size


def test_a_package_over_8_mib_fails_with_its_size(tmp_path: Path) -> None:
    noise = os.urandom(8 * 1024 * 1024)  # random bytes do not compress
    entries = {**dict.fromkeys(REQUIRED, b""), "blob.bin": noise}
    zipped = write_zip(tmp_path / "big.zip", entries=entries)
    with pytest.raises(package.BuildError, match=r"big\.zip is 8\.\d\d MiB zipped"):
        package.check_package(path=zipped)


def test_a_package_without_the_handler_fails_naming_it(tmp_path: Path) -> None:
    entries = {name: b"" for name in REQUIRED if name != "handler.py"}
    zipped = write_zip(tmp_path / "nohandler.zip", entries=entries)
    with pytest.raises(package.BuildError, match=r"lacks handler\.py"):
        package.check_package(path=zipped)


def test_the_allow_list_admits_zappas_entries_project_files_and_runtime_packages() -> None:
    assert (
        unexpected(
            "handler.py",
            "zappa_settings.py",
            "django_zappa_app.py",
            "package_info.json",
            "__init__.py",
            "manage.py",
            "resume_site/views.py",
            "resume_site/__pycache__/views.cpython-313.pyc",
            "templates/a.html",
            "django/",
            "django/db/models.py",
            "six.py",
        )
        == []
    )


def test_a_stray_file_at_the_root_is_refused() -> None:
    assert unexpected("manage.py", "dynamodb-local-metadata.json") == [
        "dynamodb-local-metadata.json"
    ]


def test_an_untracked_file_inside_a_project_package_is_refused() -> None:
    assert unexpected("resume_site/views.py", "resume_site/notes.py", ".env") == [
        ".env",
        "resume_site/notes.py",
    ]


def test_bytecode_is_admitted_only_where_its_source_would_be() -> None:
    assert unexpected(
        "resume_site/__pycache__/views.cpython-313.pyc",
        "resume_site/__pycache__/notes.cpython-313.pyc",
        "__pycache__/handler.cpython-313.pyc",
        "__pycache__/six.cpython-313.pyc",
        "__pycache__/stray.cpython-313.pyc",
    ) == ["__pycache__/stray.cpython-313.pyc", "resume_site/__pycache__/notes.cpython-313.pyc"]


@pytest.mark.parametrize("top", ["deploy", "tests", "bench", "docs", "infra", "scripts", "static"])
def test_tooling_folders_are_refused(top: str) -> None:
    assert unexpected(f"{top}/module.py") == [f"{top}/module.py"]


def test_check_contents_names_the_unexpected_entries(tmp_path: Path) -> None:
    entries = {"handler.py": b"", "dynamodb-local-metadata.json": b"{}", "deploy/x.py": b""}
    entries |= dict.fromkeys(PROJECT_FILES, b"")
    zipped = write_zip(tmp_path / "stray.zip", entries=entries)
    with pytest.raises(package.BuildError, match=r"holds 2 entries .*: deploy/x\.py, dynamodb-"):
        package.check_contents(
            path=zipped, project_files=PROJECT_FILES, runtime_names=RUNTIME_NAMES
        )


def test_check_contents_refuses_a_zip_that_lacks_a_runtime_file(tmp_path: Path) -> None:
    """An exclude pattern meant for installed packages (`*.txt`) once dropped templates/robots.txt
    from the zip, and /robots.txt answered 500 on Lambda only."""
    project_files = {*PROJECT_FILES, "templates/robots.txt", "resume_site/data/.gitignore"}
    entries = dict.fromkeys(PROJECT_FILES - {"resume_site/views.py"}, b"")
    zipped = write_zip(tmp_path / "short.zip", entries=entries)
    with pytest.raises(
        package.BuildError, match=r"lacks 2 .*: resume_site/views\.py, templates/robots\.txt$"
    ):
        package.check_contents(path=zipped, project_files=project_files, runtime_names=set())


def test_an_unknown_or_base_stage_is_refused_naming_the_stages() -> None:
    for stage in ("staging", "base"):
        with pytest.raises(package.BuildError, match=rf"stage '{stage}'.*\['dev', 'prod'\]"):
            package.build(stage=stage)


def test_runtime_project_files_are_the_tracked_runtime_files_and_the_manifest() -> None:
    files = package.runtime_project_files(root=ROOT)
    assert {"manage.py", "resume_site/settings.py", "counter/services/counting.py"} <= files
    assert {"resume_site/data/resume.json", "templates/base.html"} <= files
    assert "resume_site/static_manifest/staticfiles.json" in files
    assert not {name.split("/")[0] for name in files} - set(package.RUNTIME_PROJECT_PATHS)


def test_build_inputs_leave_out_what_never_reaches_the_package() -> None:
    inputs = package.build_inputs(root=ROOT)
    assert {"zappa_settings.json", "requirements.txt", "deploy/package.py"} <= set(inputs)
    assert "static/css/resume.css" in inputs  # hashed into the shipped manifest
    tops = {name.split("/")[0] for name in inputs}
    assert not tops & {"tests", "docs", "bench", "infra", ".ci", "README.md"}


def test_package_is_within_the_size_budget_and_holds_no_sdk_or_native_code(
    package_zip: Path,
) -> None:
    assert package_zip.stat().st_size <= 8 * 1024 * 1024
    with zipfile.ZipFile(package_zip) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
        native = [name for name in archive.namelist() if name.endswith(".so")]
    assert {"handler.py", "zappa_settings.py", "django", "resume_site", "counter"} <= tops
    assert not tops & {"boto3", "botocore", "s3transfer", "tests", "node_modules", "build"}
    assert native == []


def test_every_module_ships_bytecode_python_3_13_loads_without_checking_the_source(
    package_zip: Path,
) -> None:
    """Lambda cannot write bytecode into /var/task: without it in the zip, every cold start
    compiles from source. Unchecked-hash pycs stay valid whatever the zip's timestamps."""
    import importlib.util

    with zipfile.ZipFile(package_zip) as archive:
        names = set(archive.namelist())
        sources = [name for name in names if name.endswith(".py")]
        headers = {
            name: archive.read(name)[:8] for name in names if name.endswith(".cpython-313.pyc")
        }
    expected = {importlib.util.cache_from_source(name, optimization="") for name in sources}

    assert sources
    assert expected == set(headers)
    assert sys.version_info[:2] == (3, 13)  # the runtime's Python: same magic number, same tag
    for header in headers.values():
        assert header[:4] == importlib.util.MAGIC_NUMBER
        assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, never checked


def test_the_built_zip_holds_only_what_the_allow_list_names(package_zip: Path) -> None:
    """Nothing but Zappa's entries, the project's tracked runtime files (and the manifest), and
    the top-level names of the distributions requirements.txt installs in the build venv."""
    runtime_names = build_venv.runtime_top_level_names(
        venv=build_venv.VENV_DIR, requirements=build_venv.REQUIREMENTS
    )
    with zipfile.ZipFile(package_zip) as archive:
        names = archive.namelist()

    project_files = package.runtime_project_files(root=ROOT)
    assert (
        package.unexpected_entries(
            names=names, project_files=project_files, runtime_names=runtime_names
        )
        == []
    )
    tops = {name.split("/")[0] for name in names}
    assert not tops & {"deploy", "tests", "bench", "docs", "infra", "scripts", "static"}
    assert "resume_site/static_manifest/staticfiles.json" in names


def test_package_has_no_admin_static_or_unused_locales(package_zip: Path) -> None:
    with zipfile.ZipFile(package_zip) as archive:
        names = archive.namelist()
    assert not [n for n in names if n.startswith("django/contrib/admin/static/")]
    assert not [n for n in names if n.endswith((".mo", ".po"))]
    locales = {
        n.split("/")[3] for n in names if n.startswith("django/conf/locale/") and n.count("/") > 3
    }
    assert locales - {"__pycache__"} == {"en"}


def test_package_carries_no_secret_key_and_no_remote_env(
    package_zip: Path, stage_config: dict[str, Any]
) -> None:
    """SECRET_KEY reaches the function through its configuration, set at deploy time; the
    package neither holds it nor tells Zappa's handler to fetch anything at start."""
    with zipfile.ZipFile(package_zip) as archive:
        generated = archive.read("zappa_settings.py").decode()

    assert "SECRET_KEY" not in generated
    assert "REMOTE_ENV" not in generated
    assert stage_config["secret_env"] not in generated
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
    callback runs (settings loaded from the checkout)."""
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.command, cli.api_stage = "update", stage
    cli.vargs = {"zip": str(zip_path)}
    cli.load_settings(str(ROOT / "zappa_settings.json"))
    return cli


@pytest.fixture
def prod_secret(stage_config: dict[str, Any]) -> Iterator[str]:
    """A moto AWS account holding the prod stage's secret_env object; yields its SECRET_KEY."""
    import boto3
    from moto import mock_aws

    bucket, _, key = stage_config["secret_env"].removeprefix("s3://").partition("/")
    secret_key = secrets.token_urlsafe(64)
    with mock_aws():
        s3 = boto3.client("s3", region_name=stage_config["aws_region"])
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps({"SECRET_KEY": secret_key}))
        yield secret_key


def test_the_built_zip_is_what_zappa_update_prod_zip_would_ship(
    package_zip: Path, prod_secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings callback of `zappa update prod --zip <the zip>`, run from the checkout,
    accepts the zip: its settings are the stage's and its manifest hashes the tracked static
    files that the post callback would publish. A prebuilt zip gets the secret too: Zappa
    sets the function's configuration with or without --zip."""
    monkeypatch.chdir(ROOT)
    cli = loaded_zappa_cli(stage="prod", zip_path=package_zip)
    zappa_callbacks.check_and_prepare(cli)
    assert cli.aws_environment_variables["SECRET_KEY"] == prod_secret


def test_a_zip_built_for_another_stage_is_refused(
    package_zip: Path, prod_secret: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import click

    dev_settings = loaded_zappa_cli(stage="dev", zip_path=package_zip).get_zappa_settings_string()
    dev_zip = tmp_path / "resume-site-dev.zip"
    with zipfile.ZipFile(package_zip) as source, zipfile.ZipFile(dev_zip, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, dev_settings if item.filename == "zappa_settings.py" else data)
    monkeypatch.chdir(ROOT)

    with pytest.raises(click.ClickException) as raised:
        zappa_callbacks.check_and_prepare(loaded_zappa_cli(stage="prod", zip_path=dev_zip))
    assert "resume-site-dev.zip was built for stage 'dev'" in raised.value.format_message()


def test_unchanged_inputs_reuse_the_previous_build(package_zip: Path) -> None:
    before = package_zip.stat().st_mtime_ns
    assert package.build(stage="prod") == package_zip
    assert package_zip.stat().st_mtime_ns == before


# Run as `python -S -c INIT_REPORT TASK_DIR SDK_DIR`: Lambda's init phase (import `handler`),
# then a JSON report of what the process holds before its first event, and every operation it
# attempted meanwhile that reaches or looks up another host (Python's audit events, raised by
# the socket module whatever library calls it). Creating and binding a socket is not one:
# urllib3 binds one to ::1 at import to learn whether the machine has IPv6, with no traffic.
NETWORK_EVENTS = (
    "socket.connect",
    "socket.sendto",
    "socket.sendmsg",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyaddr",
    "socket.getnameinfo",
    "http.client.connect",
    "urllib.Request",
)
INIT_REPORT = (
    f"NETWORK_EVENTS = {NETWORK_EVENTS!r}\n"
    + """
import json, sys
network = []
def audit(event, args):
    if event in NETWORK_EVENTS:
        network.append([event, repr(args)[:200]])
sys.addaudithook(audit)
sys.path[:] = [sys.argv[1], sys.argv[2], *sys.path[1:]]
answers, sys.stdout = sys.stdout, sys.stderr
import handler
init_network = list(network)
from django.template import engines
cached = engines["django"].engine.template_loaders[0].get_template_cache
answers.write(json.dumps({
    "instantiated": handler.global_handler is not None,
    "cached_templates": sorted(cached),
    "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("counter", "resume_site")),
    "network": init_network,
}))
"""
)


def test_init_sets_django_up_and_does_the_first_requests_work_without_any_network_call(
    task_dir: Path, runtime_sdk_dir: Path, lambda_environment
) -> None:
    """SECRET_KEY is already in the environment (the deploy set it), so the init fetches
    nothing: no socket is opened, no name looked up, DynamoDB's endpoint never connected."""
    listener = socket.create_server(("127.0.0.1", 0))  # DynamoDB's endpoint, never answering
    listener.setblocking(False)
    env = lambda_environment(f"http://127.0.0.1:{listener.getsockname()[1]}")
    try:
        result = subprocess.run(
            [sys.executable, "-S", "-c", INIT_REPORT, str(task_dir), str(runtime_sdk_dir)],
            cwd=task_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected: the init made no DynamoDB request
    finally:
        listener.close()
    report = json.loads(result.stdout)

    assert report["network"] == []
    assert report["instantiated"]  # the stage's INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT
    assert {"resume/resume.html", "base.html"} <= set(report["cached_templates"])
    assert {"resume_site.views", "counter.views", "counter.services"} <= set(report["modules"])


@pytest.mark.dynamodb_local
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


@pytest.mark.dynamodb_local
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


@pytest.mark.dynamodb_local
def test_plain_http_is_redirected_to_https(lambda_process) -> None:
    response = respond(lambda_process, rest_event("GET", "/", proto="http"))

    assert response["statusCode"] == 301
    assert response["headers"]["Location"] == f"https://{API_HOST}/prod/"


@pytest.mark.dynamodb_local
def test_each_post_to_the_counter_adds_exactly_one(lambda_process) -> None:
    first = respond(lambda_process, rest_event("POST", "/api/count", body=""))
    second = respond(lambda_process, rest_event("POST", "/api/count", body=""))

    assert first["statusCode"] == second["statusCode"] == 200
    assert first["headers"]["Content-Type"] == "application/json"
    assert "no-store" in first["headers"]["Cache-Control"]
    assert json.loads(second["body"])["count"] == json.loads(first["body"])["count"] + 1


@pytest.mark.dynamodb_local
def test_get_count_reads_the_total_without_counting(lambda_process) -> None:
    posted = respond(lambda_process, rest_event("POST", "/api/count", body=""))
    read = respond(lambda_process, rest_event("GET", "/api/count"))
    read_again = respond(lambda_process, rest_event("GET", "/api/count"))

    total = json.loads(posted["body"])["count"]
    assert read["statusCode"] == 200
    assert json.loads(read["body"]) == {"count": total, "counted": False}
    assert json.loads(read_again["body"]) == {"count": total, "counted": False}


@pytest.mark.dynamodb_local
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


@pytest.mark.dynamodb_local
def test_unknown_path_is_a_404(lambda_process) -> None:
    response = respond(lambda_process, rest_event("GET", "/no-such-page"))

    assert response["statusCode"] == 404
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"


@pytest.mark.dynamodb_local
def test_malformed_event_gets_an_answer_without_a_traceback(lambda_process) -> None:
    malformed = {"httpMethod": "GET", "headers": None, "requestContext": {}}
    response = respond(lambda_process, malformed)

    assert response["statusCode"] == 500
    assert "uncaught exception" in response["body"]
    assert "Traceback" not in response["body"]


@pytest.mark.dynamodb_local
def test_the_process_keeps_serving_after_malformed_events(lambda_process) -> None:
    bad_base64 = rest_event("POST", "/api/count", body="%%% not base64 %%%")
    bad_base64["isBase64Encoded"] = True
    for event in ({"httpMethod": "GET"}, bad_base64, {"unexpected": ["shape"]}):
        assert "response" in lambda_process.invoke(event)

    assert lambda_process.alive()
    assert respond(lambda_process, rest_event("GET", "/api/count"))["statusCode"] == 200


# Every route the URL conf names outside the admin, and what the package must answer to a GET:
# (path, status, content type). The admin's own routes are covered by its sign-in tests.
ROUTES = {
    "resume": ("/", 200, "text/html; charset=utf-8"),
    "robots_txt": ("/robots.txt", 200, "text/plain; charset=utf-8"),
    "favicon": ("/favicon.ico", 302, None),
    "counter:count": ("/api/count", 200, "application/json"),
    "counter:openapi": ("/api/openapi.json", 200, "application/json"),
    "counter:not_found": ("/api/elsewhere", 404, "application/json"),
    "admin:login": ("/admin/login/", 200, "text/html; charset=utf-8"),
}


def _named_routes() -> set[str]:
    from django.urls import URLResolver, get_resolver

    names = set()
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue
            names |= {f"{pattern.namespace}:{sub.name}" for sub in pattern.url_patterns}
        else:
            names.add(pattern.name)
    return names


def test_every_route_answers_from_the_zip_as_it_does_under_runserver(lambda_process) -> None:
    """The zip once lacked templates/robots.txt (an exclude pattern), and /robots.txt answered
    500 on Lambda alone: every route of the URL conf is requested from the package."""
    assert _named_routes() | {"admin:login"} == set(ROUTES)
    for name, (path, status, content_type) in ROUTES.items():
        response = respond(lambda_process, rest_event("GET", path))
        assert response["statusCode"] == status, (name, body_text(response)[:300])
        headers = response["headers"]
        if content_type is not None:
            assert headers["Content-Type"] == content_type, name
        else:
            assert "/static/" in headers["Location"] and headers["Location"].endswith(".ico")
