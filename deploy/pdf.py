"""The resume as PDF files, printed by Chromium from the page and its print stylesheet when a
stage is deployed (never in Lambda), one page each in A4 and in Letter; published to the
static bucket at stable addresses the distribution serves, `/resume.pdf` and
`/resume-letter.pdf`, named after the owner.

    python -m deploy.pdf            # build/pdf/<digest>/, made again only when an input changed

docs/deploy.md, "The resume as a PDF", says what goes in and why Chromium is needed to deploy.
"""

import hashlib
import json
import mimetypes
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from botocore.exceptions import ClientError

from resume import pdf as resume_pdf

ROOT = Path(__file__).resolve().parent.parent
BUILD = resume_pdf.BUILD  # build/pdf/, where `make run` serves the newest build from
# What the printed page is made of: the resume's data and code, the templates, the static files
# (the print stylesheet among them), and this module.
INPUTS = ("resume", "templates", "static", "deploy/pdf.py")
# Paper -> the object's key in the static bucket, which is its address on the site (the page
# links to both: resume/pdf.py).
PAPERS = resume_pdf.PAPERS
PAGE_HOST = "http://resume.invalid"  # the page as Chromium loads it, from this process only
# Browsers and the edge: as the page (resume/views.py); every deploy invalidates both paths.
CACHE_CONTROL = "public, max-age=300, s-maxage=86400"
DIGEST_KEY = "source-sha256"  # the object's metadata: what it was printed from
Echo = Callable[[str], None]
CHROMIUM_HINT = (
    "Chromium prints the resume's PDF when a stage is deployed: install it (Debian and Ubuntu: "
    "apt-get install chromium; macOS: brew install --cask chromium) and deploy again."
)


class PdfError(click.ClickException):
    """The PDF could not be made; nothing was published."""


@dataclass(frozen=True)
class Built:
    digest: str
    name: str  # the owner's, as in the file names: "Alex Rivera"
    files: dict[str, Path]  # paper -> file

    def download_name(self, paper: str) -> str:
        """The file name a download gets, as the page's link names it (resume/pdf.py)."""
        return resume_pdf.pdf_download_name(name=self.name, paper=paper)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise PdfError(CHROMIUM_HINT)
    return found


def _files(root: Path, names: Iterable[str]) -> list[Path]:
    found = []
    for name in names:
        path = root / name
        found += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return [path for path in found if "__pycache__" not in path.parts]


def inputs_digest(*, root: Path = ROOT) -> str:
    """A digest of every input file, by path and content, and of the resume data RESUME_PATH
    names (resume_site/settings.py), wherever it is: the same inputs, the same PDFs."""
    hasher = hashlib.sha256()
    for path in _files(root, INPUTS):
        hasher.update(path.relative_to(root).as_posix().encode() + b"\0")
        hasher.update(path.read_bytes() + b"\0")
    data = root / os.environ.get("RESUME_PATH", "resume/data/resume.json")
    hasher.update(b"RESUME_PATH\0" + data.read_bytes())
    return hasher.hexdigest()


def build(*, echo: Echo, root: Path = ROOT) -> Built:
    """The PDFs for the current inputs: the ones built before for them, or printed now."""
    digest = inputs_digest(root=root)
    folder = BUILD / digest
    manifest = folder / resume_pdf.MANIFEST
    if manifest.is_file():
        echo(f"The resume's PDFs are up to date (build/pdf/{digest[:12]}...).")
    else:
        _print_in_child(folder=folder, root=root, echo=echo)
    built = json.loads(manifest.read_text(encoding="utf-8"))
    files = {paper: folder / PAPERS[paper] for paper in PAPERS}
    return Built(digest=digest, name=built["name"], files=files)


def _print_in_child(*, folder: Path, root: Path, echo: Echo) -> None:
    """Print into a scratch folder beside the builds, then move it into place whole."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "resume_site.settings",
        "DJANGO_DEBUG": "false",
        "RESUME_PDF_CHROMIUM": chromium(),
    }
    environment.pop("DJANGO_ENV", None)  # the page as it renders locally: no AWS needed
    echo("Printing the resume to PDF (A4 and Letter) with Chromium ...")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="printing-", dir=folder.parent) as scratch:
        result = subprocess.run(  # noqa: S603 (our interpreter and module, no shell)
            [sys.executable, "-m", "deploy.pdf", "print", scratch],
            cwd=root,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            detail = "\n".join(result.stderr.strip().splitlines()[-8:])
            raise PdfError(f"Printing the resume to PDF failed:\n{detail}")
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(scratch, folder)


def publish(*, s3: Any, bucket: str, built: Built, echo: Echo) -> list[str]:
    """Upload each PDF whose object was printed from other inputs; returns the keys uploaded."""
    uploaded = []
    for paper, path in built.files.items():
        key = PAPERS[paper]
        try:
            metadata = s3.head_object(Bucket=bucket, Key=key).get("Metadata", {})
        except ClientError:
            metadata = {}
        if metadata.get(DIGEST_KEY) == built.digest:
            continue
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType="application/pdf",
            CacheControl=CACHE_CONTROL,
            ContentDisposition=f'inline; filename="{built.download_name(paper)}"',
            Metadata={DIGEST_KEY: built.digest},
        )
        uploaded.append(key)
    shown = ", ".join(f"/{key}" for key in uploaded) or "nothing (unchanged)"
    echo(f"Published the resume's PDFs to s3://{bucket}/: {shown}.")
    return uploaded


def _print(folder: Path) -> None:
    """In the child: render the page with Django, print it with Chromium, set the metadata."""
    import io

    import django
    from django.contrib.staticfiles import finders
    from django.test import Client
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader, PdfWriter

    django.setup()
    from resume.resume import get_resume

    name = get_resume().basics.name
    page_html = Client().get("/", HTTP_HOST="localhost").content

    def answer(route: Any) -> None:
        path = route.request.url.removeprefix(PAGE_HOST)
        if path == "/":
            route.fulfill(status=200, content_type="text/html", body=page_html)
            return
        found = finders.find(path.removeprefix("/static/")) if path.startswith("/static/") else None
        if not found:
            route.abort()  # the counter's request and anything else: the page prints without
            return
        kind = mimetypes.guess_type(found)[0] or "application/octet-stream"
        route.fulfill(status=200, content_type=kind, body=Path(found).read_bytes())

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ["RESUME_PDF_CHROMIUM"],
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            page.route("**/*", answer)
            page.goto(f"{PAGE_HOST}/", wait_until="load")
            for paper, file_name in PAPERS.items():
                reader = PdfReader(io.BytesIO(page.pdf(format=paper, print_background=False)))
                if len(reader.pages) != 1:
                    sys.exit(
                        f"The resume prints to {len(reader.pages)} pages on {paper}: it must fit "
                        "on one (shorten resume/data/resume.json, or the print stylesheet)."
                    )
                writer = PdfWriter(clone_from=reader)
                writer.add_metadata({"/Title": f"{name}: Resume", "/Author": name})
                with (folder / file_name).open("wb") as out:
                    writer.write(out)
        finally:
            browser.close()
    (folder / resume_pdf.MANIFEST).write_text(json.dumps({"name": name}), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:2] == ["print"]:
        _print(Path(sys.argv[2]))
    else:
        try:
            made = build(echo=click.echo)
        except PdfError as error:
            error.show()
            sys.exit(2)
        for paper, path in made.files.items():
            click.echo(f"{paper}: {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KiB)")
