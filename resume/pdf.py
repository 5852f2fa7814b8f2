"""The resume as PDF files: the papers and the site addresses they are published at, the file
name a download gets (the owner's), the click label of each download link, and, off
production, the newest local build served at those addresses.

deploy/pdf.py prints the files (`python -m deploy.pdf`, into build/pdf/<digest>/) and the deploy
publishes them to the static bucket; it takes the papers, the build folder and the naming rule
from here, so the page's links and the published files cannot disagree.
"""

import re
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

from resume.resume import get_resume

# Paper -> the file's name in a build, its key in the static bucket and its address on the site.
PAPERS = {"A4": "resume.pdf", "Letter": "resume-letter.pdf"}
# Where `python -m deploy.pdf` keeps its builds, one folder per digest of its inputs; a folder
# holds MANIFEST once its files are all printed (deploy/pdf.py prints into a scratch folder
# beside them and moves it into place whole).
BUILD = Path(__file__).resolve().parent.parent / "build" / "pdf"
MANIFEST = "built.json"
PAPER_NAMES = {"A4": "A4", "Letter": "US Letter"}  # as the page says them


def pdf_download_name(*, name: str, paper: str) -> str:
    """The file name a download gets: "Alex-Rivera-Resume.pdf" for A4 and
    "Alex-Rivera-Resume-Letter.pdf" for Letter, from the resume's `basics.name`; "Resume.pdf"
    and "Resume-Letter.pdf" for a name without an ASCII letter or digit."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")
    base = f"{stem}-Resume" if stem else "Resume"
    return f"{base}{'' if paper == 'A4' else '-' + paper}.pdf"


def pdf_link_label(*, paper: str) -> str:
    """The click label of the paper's download link: "pdf" for A4, "pdf-letter" for Letter."""
    return "pdf" if paper == "A4" else f"pdf-{paper.lower()}"


def pdf_build_find(*, paper: str, build: Path | None = None) -> Path | None:
    """The paper's file in the newest complete build (the folder whose manifest was written
    last), or None when nothing is built."""
    folder = BUILD if build is None else build
    manifests = [path for path in folder.glob(f"*/{MANIFEST}") if path.is_file()]
    for manifest in sorted(manifests, key=lambda path: path.stat().st_mtime, reverse=True):
        found = manifest.parent / PAPERS[paper]
        if found.is_file():
            return found
    return None


@require_safe
def resume_pdf(request: HttpRequest, paper: str) -> FileResponse:
    """/resume.pdf and /resume-letter.pdf for `make run`: the newest local build, shown inline
    under the owner's file name, as the published file is; the site's 404 when none is built.

    In production the distribution sends these two paths to the static bucket, where the deploy
    publishes the files, so the function never serves them: there this answers 404, as it does
    to anyone calling API Gateway at these paths directly.
    """
    found = None if settings.PRODUCTION else pdf_build_find(paper=paper)
    if found is None:
        raise Http404("The resume's PDF is not built here: run `python -m deploy.pdf`.")
    name = pdf_download_name(name=get_resume().basics.name, paper=paper)
    response = FileResponse(found.open("rb"), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "no-cache"  # a new build is served at once
    return response
