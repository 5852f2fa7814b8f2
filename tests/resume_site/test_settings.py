"""resume_site/settings.py: production refuses to start half-configured; check --deploy is clean."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent
PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k3%Yq9-vT2#pLw8@zR5!mN1^bX6&cJ4*hG7(dF0)sA-eU2+iO9=",
    "DYNAMODB_ENDPOINT_URL": "",
    "DYNAMODB_TABLE": "resume-prod",
    "SITE_URL": "https://resume.example.com",
}


def _check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_in_production():
    result = _check(PRODUCTION, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DYNAMODB_TABLE", "SITE_URL"])
def test_production_names_the_missing_variable(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _check(env)
    assert result.returncode != 0
    assert f"The {missing} environment variable is required" in result.stderr


def test_production_rejects_a_short_secret_key():
    result = _check({**PRODUCTION, "SECRET_KEY": "short"})
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


def test_bad_numbers_are_named():
    result = _check({"DYNAMODB_READ_TIMEOUT": "soon"})
    assert "DYNAMODB_READ_TIMEOUT must be a number, got 'soon'" in result.stderr


def test_more_than_two_retries_are_refused_with_the_reason():
    result = _check({"DYNAMODB_MAX_RETRIES": "3"})
    assert result.returncode != 0
    assert "DYNAMODB_MAX_RETRIES must be 0, 1 or 2: every retry adds a wait" in result.stderr


def test_any_orm_query_fails_as_there_is_no_sql_database():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.dummy"
    with pytest.raises(ImproperlyConfigured, match=r"settings\.DATABASES is improperly configured"):
        connection.cursor()


def _variables_read_by_settings() -> set[str]:
    """Names of the environment variables settings.py reads (through _env* or os.environ)."""
    tree = ast.parse((ROOT / "resume_site" / "settings.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func
        reader = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        name = getattr(node.args[0], "value", None)
        if reader.startswith(("_env", "get")) and isinstance(name, str) and name.isupper():
            names.add(name)
    return names


def test_readme_configuration_table_lists_every_variable_the_settings_read():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", " ".join(rows)))

    read = _variables_read_by_settings()

    assert "CSRF_TRUSTED_ORIGINS" in read  # the scan sees calls spread over several lines
    assert read - documented == set()


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("https://partner.example", "https://partner.example"),
        ("HTTPS://Partner.Example/", "https://partner.example"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("https://partner.example:443", "https://partner.example"),
        ("http://[2001:db8::1]:80", "http://[2001:db8::1]"),
    ],
)
def test_allowed_origins_are_kept_as_browsers_send_them(value, origin):
    from resume_site.settings import _origin

    assert _origin(value) == origin


@pytest.mark.parametrize(
    "value",
    [
        "*",
        "partner.example",
        "ftp://partner.example",
        "https://partner.example/page",
        "https://partner.example?x=1",
        "https://user@partner.example",
        "https://host:port",
    ],
)
def test_an_allowed_origin_that_is_no_origin_is_refused(value):
    from resume_site.settings import _origin

    with pytest.raises(ImproperlyConfigured, match="COUNTER_ALLOWED_ORIGINS takes origins"):
        _origin(value)


def test_a_bad_allowed_origin_stops_start_up_naming_it():
    result = _check({"COUNTER_ALLOWED_ORIGINS": "https://ok.example,https://*.example"})
    assert "COUNTER_ALLOWED_ORIGINS takes origins" in result.stderr
    assert "'https://*.example'" in result.stderr


def _setting(name: str, env: dict[str, str], *, unset: tuple[str, ...]) -> str:
    """settings.`name` as a fresh process prints it, with `env` over this process's environment
    less the variables starting with `unset`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(unset)}
    result = subprocess.run(
        [sys.executable, "-c", f"from resume_site import settings; print(settings.{name})"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _endpoint(env: dict[str, str]) -> str:
    return _setting("DYNAMODB_ENDPOINT_URL", env, unset=("DYNAMODB_", "DJANGO_ENV"))


def test_locally_the_endpoint_is_the_engine_make_run_recorded(tmp_path: Path):
    data = {"DYNAMODB_LOCAL_DATA": str(tmp_path)}
    assert _endpoint(data) == "http://127.0.0.1:8001"  # no make run: the default port
    # The address, then the engine's process id: here a process that runs (this one).
    (tmp_path / "endpoint").write_text(f"http://127.0.0.1:8211\n{os.getpid()}\n")
    assert _endpoint(data) == "http://127.0.0.1:8211"
    explicit = {**data, "DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:9000"}
    assert _endpoint(explicit) == "http://127.0.0.1:9000"  # a variable set wins
    production = {k: v for k, v in PRODUCTION.items() if k != "DYNAMODB_ENDPOINT_URL"}
    assert _endpoint({**data, **production}) == ""  # production never reads the record


def _debug(env: dict[str, str]) -> str:
    return _setting("DEBUG", env, unset=("DJANGO_DEBUG", "DJANGO_ENV"))


def test_debug_is_off_locally_unless_asked_for_and_always_off_in_production():
    """Locally a missing page is the site's own 404 page, as in production."""
    assert _debug({}) == "False"
    assert _debug({"DJANGO_DEBUG": "true"}) == "True"
    assert _debug({**PRODUCTION, "DJANGO_DEBUG": "true"}) == "False"


def _ended_process() -> int:
    """The id of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.parametrize(
    "record",
    [
        "http://127.0.0.1:8211\n{ended}\n",  # its engine was killed with make run
        "http://127.0.0.1:8211\n",  # an older make run's, the address alone
        "http://127.0.0.1:8211\n0\n",  # no process
        "http://127.0.0.1:8211\n-1\n",
        "http://127.0.0.1:8211\n99999999999999999999\n",
        "",  # cut short
    ],
)
def test_locally_a_stale_record_is_ignored(tmp_path: Path, record: str):
    """A `make run` killed with SIGKILL leaves its record: its engine no longer runs, so the
    settings use the default, as with no make run at all (createadmin then says to start it)."""
    (tmp_path / "endpoint").write_text(record.format(ended=_ended_process()))

    assert _endpoint({"DYNAMODB_LOCAL_DATA": str(tmp_path)}) == "http://127.0.0.1:8001"
