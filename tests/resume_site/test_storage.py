"""resume_site/storage.py: URLs on the CloudFront domain from a local manifest, cache by name."""

import json
from pathlib import Path

import pytest

from resume_site.storage import LONG_CACHE, SHORT_CACHE, CloudFrontManifestStorage, is_hashed

DOMAIN = "d111111abcdef8.cloudfront.net"


def storage(manifest_dir: Path) -> CloudFrontManifestStorage:
    return CloudFrontManifestStorage(
        manifest_dir=manifest_dir,
        bucket_name="resume-static",
        custom_domain=DOMAIN,
        location="static",
        default_acl=None,
        querystring_auth=False,
    )


def test_urls_come_from_the_local_manifest_without_calling_s3(tmp_path: Path) -> None:
    manifest = {"version": "1.1", "hash": "x", "paths": {"css/a.css": "css/a.0123456789ab.css"}}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))

    # No endpoint and no bucket exist: any S3 call would fail this test.
    assert storage(tmp_path).url("css/a.css") == f"https://{DOMAIN}/static/css/a.0123456789ab.css"


def test_a_missing_manifest_names_the_file_and_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"nowhere/staticfiles\.json is missing.*make package"):
        storage(tmp_path / "nowhere").url("css/a.css")


def test_hashed_names_are_cached_for_a_year_others_briefly(tmp_path: Path) -> None:
    files = storage(tmp_path)

    assert files.get_object_parameters("static/css/a.0123456789ab.css")["CacheControl"] == (
        LONG_CACHE
    )
    assert files.get_object_parameters("static/css/a.css")["CacheControl"] == SHORT_CACHE


@pytest.mark.parametrize(
    ("name", "hashed"),
    [
        ("css/a.0123456789ab.css", True),
        ("admin/fonts/LICENSE.0123456789ab", True),
        ("css/a.css", False),
        ("css/a.0123456789.css", False),
        ("x.0123456789ab/a.css", False),
    ],
)
def test_is_hashed_only_for_names_with_collectstatics_content_hash(name: str, hashed: bool) -> None:
    assert is_hashed(name) is hashed
