"""deploy/static_files.py: the deploy steps publish hashed static files to S3 (moto's server),
and production pages link exactly the uploaded objects on the CloudFront domain."""

import json
import os
import re
import runpy
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import boto3
import pytest
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.apps import StaticFilesConfig
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static
from moto.server import ThreadedMotoServer

import resume_site
from deploy import static_files
from resume_site.storage import LONG_CACHE
from scripts.dynamodb_local import free_port
from tests.docs import costs
from tests.docs.figures import block_settle
from tests.infra.aws_calls import sitecustomize as recorder

SETTINGS_FILE = Path(resume_site.__file__).resolve().parent / "settings.py"
ROOT = SETTINGS_FILE.parent.parent
BUCKET = "resume-static-test"
DOMAIN = "d111111abcdef8.cloudfront.net"
STATIC_REF = re.compile(r"""(?:href|src)="([^"]*static/[^"]*)\"""")


def fake_cli(*, manifest_dir: Path, **env: str) -> SimpleNamespace:
    """What Zappa hands a callback: its CLI object, of which the steps read stage_config."""
    environment = {
        "ALLOWED_HOSTS": "resume.example.com",
        "DYNAMODB_TABLE": "resume-prod",
        "SITE_URL": "https://resume.example.com",
        "STATIC_BUCKET": BUCKET,
        "STATIC_DOMAIN": DOMAIN,
        "STATIC_MANIFEST_DIR": str(manifest_dir),
        **env,
    }
    stage_config = {
        "aws_region": "us-east-1",
        "django_settings": "resume_site.settings",
        "environment_variables": {k: v for k, v in environment.items() if v},
    }
    return SimpleNamespace(stage_config=stage_config)


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    """moto's S3 server on a free port; child processes reach it through AWS_ENDPOINT_URL_S3."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        yield boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint)
    server.stop()


@pytest.fixture(scope="module")
def published_calls(s3: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Counter]:
    """The deploy's two steps: the manifest is built (package), then the files are published,
    with the S3 calls of the publish's collectstatic process recorded (tests/infra/aws_calls):
    the manifest's folder, and each operation's count."""
    s3.create_bucket(Bucket=BUCKET)
    manifest_dir = tmp_path_factory.mktemp("static_manifest")
    cli = fake_cli(manifest_dir=manifest_dir)
    static_files.build_manifest(cli, project=ROOT)
    record = str(tmp_path_factory.mktemp("s3-calls"))
    with mock.patch.dict(os.environ, recorder.child_environment(record)):
        static_files.publish_static(cli, project=ROOT)
    return manifest_dir, Counter(call["operation"] for call in recorder.recorded(record))


@pytest.fixture(scope="module")
def published(published_calls: tuple[Path, Counter]) -> Path:
    return published_calls[0]


@pytest.fixture
def production_static(published: Path, settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The static settings that settings.py makes for production, applied to this test."""
    monkeypatch.setenv("DJANGO_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 60)
    for name, value in (
        fake_cli(manifest_dir=published).stage_config["environment_variables"].items()
    ):
        monkeypatch.setenv(name, value)
    production = runpy.run_path(str(SETTINGS_FILE))
    settings.STATIC_URL = production["STATIC_URL"]
    settings.STORAGES = production["STORAGES"]


def static_urls(html: str) -> list[str]:
    return STATIC_REF.findall(html)


def assert_published(s3: Any, urls: list[str]) -> None:
    assert urls
    for url in urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("https", DOMAIN), url
        assert parts.path.startswith("/static/"), url
        head = s3.head_object(Bucket=BUCKET, Key=parts.path.removeprefix("/"))
        assert head["CacheControl"] == LONG_CACHE, url


def test_resume_page_links_uploaded_hashed_files(production_static, client, s3) -> None:
    html = client.get("/").content.decode()

    urls = static_urls(html)
    assert {re.sub(r"\.[0-9a-f]{12}\.", ".", url) for url in urls} >= {
        f"https://{DOMAIN}/static/css/resume.css",
        f"https://{DOMAIN}/static/js/counter.js",
    }
    assert_published(s3, urls)


def test_admin_login_links_uploaded_hashed_files(production_static, client, s3) -> None:
    response = client.get("/admin/login/")

    assert response.status_code == 200
    urls = static_urls(response.content.decode())
    assert {re.sub(r"\.[0-9a-f]{12}\.", ".", url) for url in urls} >= {
        f"https://{DOMAIN}/static/css/admin-site.css",  # the admin's own look, not Django's
    }
    assert_published(s3, urls)


def test_the_manifest_is_not_uploaded(published, s3) -> None:
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}

    assert not any(key.endswith("staticfiles.json") for key in keys)
    assert all(key.startswith("static/") for key in keys)


def test_the_shipped_manifest_names_the_uploaded_objects(published, s3) -> None:
    paths = json.loads((published / "staticfiles.json").read_text())["paths"]
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}

    assert {f"static/{hashed}" for hashed in paths.values()} <= keys


def test_unhashed_copies_get_a_short_cache(published, s3) -> None:
    head = s3.head_object(Bucket=BUCKET, Key="static/css/resume.css")

    assert head["CacheControl"] == "public, max-age=300"


def test_production_static_url_is_on_the_cloudfront_domain(production_static) -> None:
    assert static("css/resume.css").startswith(f"https://{DOMAIN}/static/css/resume.")


def test_a_missing_bucket_stops_the_deploy_with_s3s_answer(published, s3) -> None:
    cli = fake_cli(manifest_dir=published, STATIC_BUCKET="no-such-bucket")

    with pytest.raises(static_files.StaticDeployError, match="collectstatic failed:") as failure:
        static_files.publish_static(cli, project=ROOT)
    assert "NoSuchBucket" in failure.value.message


def test_the_child_never_gets_the_real_secret_key(tmp_path: Path) -> None:
    cli = fake_cli(manifest_dir=tmp_path, SECRET_KEY="r" * 60)

    first, second = (
        static_files.child_environment(stage_config=cli.stage_config, manifest_dir=tmp_path)[
            "SECRET_KEY"
        ]
        for _ in range(2)
    )
    assert first != "r" * 60
    assert len(first) >= 50
    assert first != second


def test_local_static_is_unchanged(settings) -> None:
    assert settings.STATIC_URL == "/static/"
    assert static("css/resume.css") == "/static/css/resume.css"


def test_a_static_bucket_needs_its_cloudfront_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATIC_BUCKET", BUCKET)
    monkeypatch.delenv("STATIC_DOMAIN", raising=False)

    with pytest.raises(ImproperlyConfigured, match="STATIC_DOMAIN must be the CloudFront domain"):
        runpy.run_path(str(SETTINGS_FILE))


def test_check_deploy_is_clean_with_production_static(tmp_path: Path) -> None:
    env = {
        **os.environ,
        **fake_cli(manifest_dir=tmp_path).stage_config["environment_variables"],
        "DJANGO_ENV": "production",
        "SECRET_KEY": "k3%Yq9-vT2#pLw8@zR5!mN1^bX6&cJ4*hG7(dF0)sA-eU2+iO9=",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_broken_stage_environment_stops_the_step_with_django_s_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = fake_cli(manifest_dir=tmp_path, SITE_URL="http://alexrivera.example.com")

    with pytest.raises(static_files.StaticDeployError) as failure:
        static_files.build_manifest(cli, project=ROOT)
    assert "Hashing the static files failed" in failure.value.message
    assert "SITE_URL must be the site's address like https://resume.example.com" in (
        failure.value.message
    )
    assert not (tmp_path / "staticfiles.json").exists()


def test_only_the_admins_vendor_libraries_are_left_out(published, s3) -> None:
    """Every static file the finders know is published but the admin's vendor libraries, which
    only model admin pages load (owners/apps.py): the pages above link what is uploaded."""
    found = {
        path
        for finder in finders.get_finders()
        for path, _storage in finder.list(StaticFilesConfig.ignore_patterns)
    }
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}

    vendor = {path for path in found if re.match(r"admin/(js|css)/vendor/", path)}
    assert vendor
    assert {f"static/{path}" for path in found - vendor} <= keys
    assert not {key for key in keys if "/vendor/" in key}


def test_a_deploys_s3_requests_are_the_ones_its_cost_is_computed_from(
    published_calls: tuple[Path, Counter],
) -> None:
    """The publish's S3 calls give docs/deploy.md the requests and the cost of a deploy on push.
    CI deploys from a fresh checkout, whose files are all newer than the bucket's copies, so
    collectstatic uploads each of them again, as into the empty bucket here."""
    _manifest_dir, calls = published_calls

    assert calls["PutObject"] and calls["HeadObject"]
    assert set(calls) <= {"PutObject", "HeadObject", "GetObject", "DeleteObject"}
    doc = (ROOT / costs.DEPLOY).read_text()
    block_settle(costs.DEPLOY, "deploy-requests", costs.deploy_requests(doc, calls))
