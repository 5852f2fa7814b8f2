"""deploy/pdf.py: the resume printed by Chromium to one page in A4 and in Letter, named and
titled after the owner, its text and links kept; printed again only when an input changes;
published to the static bucket only when what is there was printed from other inputs."""

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pypdf import PdfReader

from deploy import pdf

ROOT = Path(__file__).resolve().parent.parent.parent
NEEDS_CHROMIUM = pytest.mark.skipif(
    shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
    reason="Chromium is not installed (apt-get install chromium; .ci/run does it)",
)


@pytest.fixture
def build_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(pdf, "BUILD", tmp_path / "build" / "pdf")
    return tmp_path / "build" / "pdf"


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pdf.Built]:
    """The committed resume printed once for this module, into a scratch build folder."""
    if pdf.shutil.which("chromium") is None and pdf.shutil.which("chromium-browser") is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does it)")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pdf, "BUILD", tmp_path_factory.mktemp("pdf") / "build")
        yield pdf.build(echo=lambda line: None)


@NEEDS_CHROMIUM
@pytest.mark.parametrize(("paper", "width"), [("A4", 595.3), ("Letter", 612.0)])
def test_each_paper_is_one_page_of_its_size_with_the_owners_name_text_and_links(
    printed: pdf.Built, paper: str, width: float
) -> None:
    reader = PdfReader(io.BytesIO(printed.files[paper].read_bytes()))
    (page,) = reader.pages
    assert abs(float(page.mediabox.width) - width) < 1  # points; Chromium rounds to its pixels
    assert reader.metadata.title == "Alex Rivera: Resume"
    assert reader.metadata.author == "Alex Rivera"
    text = page.extract_text()
    assert "Alex Rivera" in text and "EXPERIENCE" in text  # selectable text, not an image
    links = {note.get_object()["/A"]["/URI"] for note in page["/Annots"]}
    assert "mailto:alex.rivera@example.com" in links
    assert "https://github.com/alex-rivera-example" in links


@NEEDS_CHROMIUM
def test_the_files_are_named_after_the_owner(printed: pdf.Built) -> None:
    assert printed.download_name("A4") == "Alex-Rivera-Resume.pdf"
    assert printed.download_name("Letter") == "Alex-Rivera-Resume-Letter.pdf"


def test_the_same_inputs_are_not_printed_again(
    build_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build for these inputs exists: Chromium is not even looked for."""
    folder = build_dir / pdf.inputs_digest()
    folder.mkdir(parents=True)
    (folder / "built.json").write_text(json.dumps({"name": "Alex Rivera"}))
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    lines: list[str] = []

    built = pdf.build(echo=lines.append)

    assert built.files == {paper: folder / key for paper, key in pdf.PAPERS.items()}
    assert lines[0].startswith("The resume's PDFs are up to date")


def tree(root: Path, resume: str = '{"basics": {}}') -> Path:
    for name in ("resume/data", "templates", "static/css", "deploy"):
        (root / name).mkdir(parents=True, exist_ok=True)
    (root / "resume/data/resume.json").write_text(resume)
    (root / "templates/base.html").write_text("<html>")
    (root / "static/css/resume.css").write_text("@media print {}")
    (root / "deploy/pdf.py").write_text("# the builder")
    return root


@pytest.mark.parametrize(
    "change",
    ["resume/data/resume.json", "templates/base.html", "static/css/resume.css", "deploy/pdf.py"],
)
def test_the_data_the_template_the_styles_or_the_builder_changing_changes_the_digest(
    tmp_path: Path, change: str
) -> None:
    root = tree(tmp_path)
    before = pdf.inputs_digest(root=root)
    (root / change).write_text((root / change).read_text() + " ")
    assert pdf.inputs_digest(root=root) != before


def test_resume_data_outside_the_tree_is_an_input_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree(tmp_path / "tree")
    elsewhere = tmp_path / "mine.json"
    elsewhere.write_text('{"basics": {"name": "A"}}')
    monkeypatch.setenv("RESUME_PATH", str(elsewhere))
    before = pdf.inputs_digest(root=root)
    elsewhere.write_text('{"basics": {"name": "B"}}')
    assert pdf.inputs_digest(root=root) != before


def test_without_chromium_the_build_stops_with_the_hint_and_nothing_is_made(
    build_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    with pytest.raises(pdf.PdfError) as raised:
        pdf.build(echo=lambda line: None)
    assert "apt-get install chromium" in raised.value.format_message()
    assert not build_dir.exists() or not any(build_dir.iterdir())


@NEEDS_CHROMIUM
def test_a_resume_longer_than_a_page_stops_the_build_naming_the_paper(
    build_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads((ROOT / "resume/data/resume.json").read_text())
    data["work"] = data["work"] * 6
    long = tmp_path / "long.json"
    long.write_text(json.dumps(data))
    monkeypatch.setenv("RESUME_PATH", str(long))

    with pytest.raises(pdf.PdfError, match=r"prints to \d+ pages on A4: it must fit on one"):
        pdf.build(echo=lambda line: None)
    assert not any(build_dir.glob("*/built.json"))


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="static")
        yield client


def fake_built(tmp_path: Path, digest: str) -> pdf.Built:
    files = {}
    for paper, key in pdf.PAPERS.items():
        files[paper] = tmp_path / key
        files[paper].write_bytes(b"%PDF-1.4 " + paper.encode())
    return pdf.Built(digest=digest, name="Alex Rivera", files=files)


def test_publishing_uploads_both_files_with_their_headers_once(s3: Any, tmp_path: Path) -> None:
    lines: list[str] = []
    assert pdf.publish(s3=s3, bucket="static", built=fake_built(tmp_path, "a"), echo=lines.append)
    head = s3.head_object(Bucket="static", Key="resume.pdf")
    assert head["ContentType"] == "application/pdf"
    assert head["CacheControl"] == pdf.CACHE_CONTROL
    assert head["ContentDisposition"] == 'inline; filename="Alex-Rivera-Resume.pdf"'
    letter = s3.head_object(Bucket="static", Key="resume-letter.pdf")
    assert letter["ContentDisposition"] == 'inline; filename="Alex-Rivera-Resume-Letter.pdf"'

    again = pdf.publish(s3=s3, bucket="static", built=fake_built(tmp_path, "a"), echo=lines.append)
    changed = pdf.publish(s3=s3, bucket="static", built=fake_built(tmp_path, "b"), echo=print)

    assert again == []
    assert lines[-1].endswith("nothing (unchanged).")
    assert changed == ["resume.pdf", "resume-letter.pdf"]


def test_the_distribution_sends_both_addresses_to_the_bucket() -> None:
    """infra/template.yaml's `resume*.pdf` behaviour serves each object at its key."""
    import fnmatch

    from tests.infra.test_template import TEMPLATE

    text = TEMPLATE.read_text()
    assert "PathPattern: resume*.pdf" in text
    assert all(fnmatch.fnmatch(key, "resume*.pdf") for key in pdf.PAPERS.values())
