"""Production static storage: hashed files in a private S3 bucket, served by CloudFront.

It is django-storages' S3ManifestStaticStorage with three choices of ours:
- the manifest (staticfiles.json) is a local file in `manifest_dir`, shipped in the Lambda
  package, instead of an S3 object: rendering a page never calls S3, the Lambda role needs no S3
  permission, and a package always renders the hashed names it was built with, even while a
  deploy is still uploading (old hashed files stay in the bucket for old containers);
- hashed files are uploaded with a one-year immutable Cache-Control (their name changes when
  their content does); the unhashed copies collectstatic also leaves get a short one;
- no ACLs and no query-string signing: the bucket is private and CloudFront reads it via OAC.
"""

import re
from pathlib import Path
from typing import Any

from django.core.files.storage import FileSystemStorage
from storages.backends.s3 import S3ManifestStaticStorage

LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=300"
# HashedFilesMixin names a file `<root>.<12 hex digits of MD5><ext>`.
_HASHED = re.compile(r"\.[0-9a-f]{12}(\.[^./]+)?$")


def is_hashed(name: str) -> bool:
    """True for a name collectstatic gave a content hash to."""
    return bool(_HASHED.search(name.rsplit("/", 1)[-1]))


class CloudFrontManifestStorage(S3ManifestStaticStorage):
    """S3ManifestStaticStorage with a local manifest and cache headers by name."""

    def __init__(self, *, manifest_dir: str | Path, **kwargs: Any) -> None:
        self.manifest_dir = Path(manifest_dir)
        super().__init__(manifest_storage=FileSystemStorage(location=self.manifest_dir), **kwargs)

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        parameters = super().get_object_parameters(name)
        parameters["CacheControl"] = LONG_CACHE if is_hashed(name) else SHORT_CACHE
        return parameters

    def stored_name(self, name: str) -> str:
        if not self.hashed_files:
            raise ValueError(
                f"The static manifest {self.manifest_dir / self.manifest_name} is missing or "
                "empty: build the package through Zappa, whose settings callback runs "
                "deploy.static_files.build_manifest to write it."
            )
        return super().stored_name(name)
