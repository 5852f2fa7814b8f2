"""deploy/package.py: the build venv, the zip's contents check and bytecode, and the package it
builds: holding only what may ship, and working when real API Gateway REST (v1) proxy events are
sent to Zappa's `handler.lambda_handler` imported from the unzipped zip in a fresh Python 3.13
process, with SECRET_KEY in its environment (where Lambda puts what the deploy set from the
stage's secret_env object) and the counter on DynamoDB Local."""

import base64
import importlib.util
import json
import marshal
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

from deploy import package, static_files, zappa_callbacks
from harness import lambda_host
from tests.deploy import moto_harness

ROOT = Path(__file__).resolve().parent.parent.parent
API_HOST = lambda_host.API_HOST
CLIENT_IP = "203.0.113.7"
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36 package-test"
)


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


def test_the_active_venv_is_packaged_if_it_is_an_up_to_date_build_venv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One made by packaging_venv (it holds the stamp of today's requirements.txt): so a Zappa
    run inside build/venv, or another checkout's, packages it as it is."""
    (tmp_path / package.STAMP).write_text(package._venv_digest())
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path))
    assert package.packaging_venv() == tmp_path


def test_a_dev_venv_is_never_packaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dev venv (no stamp) or a stale build venv: build/venv, (re)made with requirements.txt
    only when its own stamp is not today's."""
    venv = tmp_path / "build-venv"
    monkeypatch.setattr(package, "VENV_DIR", venv)
    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)
    ran: list[list[str]] = []

    def run(args: list[str], **_: Any) -> None:
        ran.append(args)
        venv.mkdir(exist_ok=True)

    monkeypatch.setattr(package.subprocess, "run", run)
    venv.mkdir()
    (venv / package.STAMP).write_text("stale")

    assert package.packaging_venv() == venv
    assert [args[1:3] for args in ran] == [["-m", "venv"], ["-m", "pip"]]
    assert ran[1][-3:] == ["--require-hashes", "-r", str(ROOT / "requirements.txt")]
    assert package.packaging_venv() == venv  # now up to date: nothing runs again
    assert len(ran) == 2


def unexpected(*names: str) -> list[str]:
    """What the zip check refuses of these entries, for this checkout and the build venv."""
    return package.unexpected_entries(names=names, project=ROOT, venv=package.VENV_DIR)


def test_the_zip_check_admits_zappas_entries_the_runtime_code_and_the_build_venvs_packages(
    package_zip: Path,
) -> None:
    allowed = [*package.ZAPPA_ENTRIES, "manage.py", "resume/views.py", "templates/a.html"]
    assert unexpected(*allowed, "django/db/models.py", "pynamodb/", "six.py") == []


@pytest.mark.parametrize(
    "stray",
    [
        "deploy/secret_env.py",
        "tests/conftest.py",
        "harness/lambda_host.py",
        "docs/deploy.md",
        "infra/template.yaml",
        "scripts/run_local.py",
        "static/css/resume.css",
        "zappa_settings.json",
        "requirements-dev.txt",
        ".env",
        ".venv/bin/python",
        "node_modules/x.js",
        "dynamodb-local-metadata.json",
        "pytest/__init__.py",  # not in the build venv
    ],
)
def test_the_zip_check_refuses_tooling_strays_and_dev_packages(
    package_zip: Path, stray: str
) -> None:
    assert unexpected("handler.py", "resume/views.py", stray) == [stray.split("/")[0]]


def test_bytecode_is_added_beside_each_module_as_unchecked_hash_pyc(tmp_path: Path) -> None:
    zipped = write_zip(
        tmp_path / "p.zip",
        entries={"handler.py": b"ANSWER = 42\n", "app/views.py": b"X = 1\n", "app/t.html": b"<p>"},
    )
    assert package.add_bytecode(zipped, runtime="python3.13") == 2

    with zipfile.ZipFile(zipped) as archive:
        names = set(archive.namelist())
        pyc = archive.read("__pycache__/handler.cpython-313.pyc")
        assert archive.read("handler.py") == b"ANSWER = 42\n"
    assert names == {
        "handler.py",
        "app/views.py",
        "app/t.html",
        "__pycache__/handler.cpython-313.pyc",
        "app/__pycache__/views.cpython-313.pyc",
    }
    assert pyc[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(pyc[4:8], "little") == 0b01  # hash-based, source never checked
    code = marshal.loads(pyc[16:])  # noqa: S302 (bytecode this test just compiled)
    assert code.co_filename == "/var/task/handler.py"  # no build machine path inside
    namespace: dict[str, object] = {}
    exec(code, namespace)  # noqa: S102 (the module just compiled)
    assert namespace["ANSWER"] == 42


def test_bytecode_for_another_python_is_refused(tmp_path: Path) -> None:
    zipped = write_zip(tmp_path / "p.zip", entries={"handler.py": b"x = 1\n"})
    with pytest.raises(package.PackageError, match=r"python3\.12 runtime .* not python3\.13"):
        package.add_bytecode(zipped, runtime="python3.12")


def test_a_module_that_does_not_compile_fails_the_build_naming_it(tmp_path: Path) -> None:
    zipped = write_zip(tmp_path / "p.zip", entries={"ok.py": b"x = 1\n", "bad.py": b"def (:\n"})
    with pytest.raises(package.PackageError, match=r"do not compile: bad\.py"):
        package.add_bytecode(zipped, runtime="python3.13")


def test_an_unknown_or_base_stage_is_refused_naming_the_stages() -> None:
    for stage in ("staging", "base"):
        with pytest.raises(package.PackageError, match=rf"stage '{stage}'.*\['dev', 'prod'\]"):
            package.build(stage=stage)


def test_package_is_within_the_size_budget_and_holds_no_sdk_dev_package_or_native_code(
    package_zip: Path,
) -> None:
    """Built from the dev venv (deploy/package.py runs its Zappa): the callback packaged the
    build venv instead, so no test tool ships."""
    assert package_zip.stat().st_size <= 8 * 1024 * 1024
    with zipfile.ZipFile(package_zip) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
        native = [name for name in archive.namelist() if name.endswith(".so")]
    assert {
        "handler.py",
        "zappa_settings.py",
        "django",
        "pynamodb",
        "resume_site",
        "counter",
    } <= tops
    assert not tops & {"boto3", "botocore", "s3transfer", "tests", "node_modules", "build"}
    assert not tops & {"pytest", "_pytest", "moto", "ruff", "pytest_django", "cfnlint"}
    assert native == []


def test_every_module_ships_bytecode_python_3_13_loads_without_checking_the_source(
    package_zip: Path,
) -> None:
    """Lambda cannot write bytecode into /var/task: without it in the zip, every cold start
    compiles from source. Unchecked-hash pycs stay valid whatever the zip's timestamps."""
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


def test_the_built_zip_holds_only_what_may_ship_and_every_runtime_file(package_zip: Path) -> None:
    """Nothing the zip check refuses; and every tracked file of the runtime paths (an exclude
    pattern meant for installed packages, `*.txt`, once dropped templates/robots.txt, and
    /robots.txt answered 500 on Lambda only), and the static manifest."""
    with zipfile.ZipFile(package_zip) as archive:
        names = archive.namelist()
    tracked = subprocess.run(
        ["git", "ls-files", *package.RUNTIME_PROJECT_PATHS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()

    assert unexpected(*(name for name in names if "__pycache__/" not in name)) == []
    runtime_files = {path for path in tracked if not path.endswith("/.gitignore")}
    assert runtime_files - set(names) == set()
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
def prod_secret(stage_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto AWS account holding the prod stage's infra stack (tests/deploy/moto_harness.py's
    stand-in) and secret_env object; yields its SECRET_KEY. The static files' publication, a
    child process that cannot reach this in-process moto, is recorded instead
    (test_zappa_lifecycle.py and test_live.py publish them for real)."""
    import boto3
    from moto import mock_aws

    bucket, _, key = stage_config["secret_env"].removeprefix("s3://").partition("/")
    secret_key = secrets.token_urlsafe(64)
    monkeypatch.setattr(static_files, "publish_static", lambda cli, *, project: None)
    with mock_aws(), moto_harness.zappa_patches():
        session = boto3.Session(region_name=stage_config["aws_region"])
        moto_harness.InfraStack(session=session, endpoint=None).create_stack(
            StackName="resume-site-prod-infra",
            TemplateBody="the template",
            Parameters=[{"ParameterKey": "Stage", "ParameterValue": "prod"}],
        )
        s3 = session.client("s3")
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
    assert raised.value.format_message().startswith(
        "--zip resume-site-dev.zip holds another zappa_settings.py than a package built for "
        "stage 'prod' now would"
    )


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
import gc
from django.template import engines
cached = engines["django"].engine.template_loaders[0].get_template_cache
answers.write(json.dumps({
    "instantiated": handler.global_handler is not None,
    "cached_templates": sorted(cached),
    "collector": [gc.isenabled(), gc.get_freeze_count()],
    "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("counter", "resume")),
    "network": init_network,
}))
"""
)


def test_init_sets_django_up_and_imports_the_views_without_any_network_call(
    task_dir: Path, runtime_sdk_dir: Path, lambda_environment
) -> None:
    """SECRET_KEY is already in the environment (the deploy set it), so the init fetches
    nothing: no socket is opened, no name looked up, DynamoDB's endpoint never connected. The
    page's templates wait for the first GET (resume_site/warmup.py); what the init made is
    frozen and the collector is on again (core/lifetime.py)."""
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
    assert report["cached_templates"] == []
    assert {"resume.views", "counter.views", "counter.services"} <= set(report["modules"])
    enabled, frozen = report["collector"]
    assert enabled
    assert frozen > 10_000


@pytest.mark.dynamodb_local
def test_resume_page_renders_with_security_headers(lambda_process) -> None:
    response = respond(lambda_process, rest_event("GET", "/"))
    resume = json.loads((ROOT / "resume" / "data" / "resume.json").read_text())

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
    # The distribution serves the PDFs from the bucket: the function answers only the site's 404.
    "resume_pdf": ("/resume.pdf", 404, "text/html; charset=utf-8"),
    "resume_pdf_letter": ("/resume-letter.pdf", 404, "text/html; charset=utf-8"),
    "counter:count": ("/api/count", 200, "application/json"),
    "counter:click": ("/api/click", 405, "application/json"),  # POST only
    "counter:openapi": ("/api/openapi.json", 200, "application/json"),
    "counter:health": ("/api/health", 200, "application/json"),
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
            prefix = f"{pattern.namespace}:" if pattern.namespace else ""
            names |= {f"{prefix}{sub.name}" for sub in pattern.url_patterns}
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
