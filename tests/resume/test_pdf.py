"""resume/pdf.py: the PDFs' file names and click labels, the page's download links, and the
newest local build served at /resume.pdf and /resume-letter.pdf off production."""

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from deploy import pdf as deploy_pdf
from resume import pdf

PDF_BYTES = b"%PDF-1.7 a resume"


@pytest.mark.parametrize(
    ("name", "paper", "file_name"),
    [
        ("Alex Rivera", "A4", "Alex-Rivera-Resume.pdf"),
        ("Alex Rivera", "Letter", "Alex-Rivera-Resume-Letter.pdf"),
        ("Zoë O'Brien-Smith", "A4", "Zo-O-Brien-Smith-Resume.pdf"),
        ("李雷", "Letter", "Resume-Letter.pdf"),  # before: "Resume-Resume-Letter.pdf"
    ],
)
def test_a_download_is_named_after_the_owner(name, paper, file_name):
    assert pdf.pdf_download_name(name=name, paper=paper) == file_name


def test_the_deploy_names_publishes_and_builds_as_the_page_links():
    """One rule, one list of papers, one build folder: deploy/pdf.py takes them from here."""
    built = deploy_pdf.Built(digest="d", name="Alex Rivera", files={})
    assert built.download_name("Letter") == "Alex-Rivera-Resume-Letter.pdf"
    assert deploy_pdf.PAPERS is pdf.PAPERS
    assert deploy_pdf.BUILD == pdf.BUILD == deploy_pdf.ROOT / "build" / "pdf"


def test_the_page_links_to_both_papers_named_after_the_owner(client):
    html = client.get("/").content.decode()
    (paragraph,) = re.findall(r'<p class="downloads">.*?</p>', html)
    assert (
        '<a href="/resume.pdf" download="Alex-Rivera-Resume.pdf" data-click="pdf">'
        "Download PDF</a>" in paragraph
    )
    assert (
        '<a href="/resume-letter.pdf" download="Alex-Rivera-Resume-Letter.pdf" '
        'data-click="pdf-letter" aria-label="Download PDF, US Letter">US Letter</a>' in paragraph
    )


def test_the_download_links_are_not_printed():
    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "resume.css").read_text()
    printed = css[css.index("@media print {\n  @page") :]
    hidden = printed[: printed.index("display: none !important;")]
    assert ".downloads," in hidden


def _build(root: Path, digest: str, *, age: int, papers: Any = pdf.PAPERS) -> Path:
    folder = root / digest
    folder.mkdir(parents=True)
    for file_name in dict(papers).values():
        (folder / file_name).write_bytes(PDF_BYTES + digest.encode())
    manifest = folder / pdf.MANIFEST
    manifest.write_text(json.dumps({"name": "Alex Rivera"}))
    os.utime(manifest, (1_700_000_000 + age, 1_700_000_000 + age))
    return folder


@pytest.fixture
def build_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(pdf, "BUILD", tmp_path / "pdf")
    return tmp_path / "pdf"


def test_the_newest_complete_build_is_found(build_dir: Path):
    assert pdf.pdf_build_find(paper="A4") is None  # nothing built
    _build(build_dir, "old", age=1)
    newest = _build(build_dir, "new", age=2)
    (build_dir / "printing-scratch").mkdir()  # a print under way: no manifest yet
    (build_dir / "printing-scratch" / "resume.pdf").write_bytes(b"half")
    assert pdf.pdf_build_find(paper="A4") == newest / "resume.pdf"
    assert pdf.pdf_build_find(paper="Letter") == newest / "resume-letter.pdf"


def test_locally_the_addresses_serve_the_newest_build_named_after_the_owner(client, build_dir):
    _build(build_dir, "old", age=1)
    _build(build_dir, "new", age=2)
    for path, paper, name in [
        ("/resume.pdf", "A4", "Alex-Rivera-Resume.pdf"),
        ("/resume-letter.pdf", "Letter", "Alex-Rivera-Resume-Letter.pdf"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, paper
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'inline; filename="{name}"'
        assert b"".join(response.streaming_content) == PDF_BYTES + b"new"
    assert client.post("/resume.pdf").status_code == 405


def test_without_a_build_the_addresses_are_the_sites_404(client, build_dir, settings):
    settings.DEBUG = False
    response = client.get("/resume.pdf")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_in_production_the_function_never_serves_them(client, build_dir, settings):
    """The distribution sends the two paths to the static bucket: the function answers only a
    request that reached it some other way, with the site's 404, built or not."""
    _build(build_dir, "new", age=2)
    settings.PRODUCTION = True
    settings.DEBUG = False
    for path in ("/resume.pdf", "/resume-letter.pdf"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Page not found" in response.content.decode()
