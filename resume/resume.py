"""Load the site's resume: read ``resume.json``, validate it, and keep it for the process.

The page, the SEO data, the links and the admin's header all read the one :class:`Resume` that
:func:`get_resume` loads from ``settings.RESUME_PATH`` once per process. A file that cannot be
read, is not JSON, or has a wrong field raises :class:`ResumeError` naming the file, so a bad
resume stops start-up instead of a request. The structure is resume/model.py's and the
validation resume/parse.py's; Django is used here only to find the configured file and to reset
the cache when that setting changes in tests.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from resume.model import Resume, ResumeError
from resume.parse import parse_resume

__all__ = ["DEFAULT_RESUME_PATH", "get_resume", "load_resume", "owner_name"]

DEFAULT_RESUME_PATH = Path(__file__).resolve().parent / "data" / "resume.json"


def load_resume(path: Path) -> Resume:
    """Read, decode and validate the resume file at ``path``.

    Raises :class:`ResumeError` (naming the file) when the file is missing or unreadable, is not
    valid JSON (with line and column), or has a field that is wrong (with its JSON path).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ResumeError("resume file not found", file=path) from None
    except UnicodeDecodeError as exc:
        raise ResumeError(
            f"file is not valid UTF-8 ({exc.reason} at byte {exc.start})", file=path
        ) from None
    except OSError as exc:
        raise ResumeError(f"cannot read the resume file: {exc.strerror or exc}", file=path) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResumeError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", file=path
        ) from None
    try:
        return parse_resume(data)
    except ResumeError as exc:
        raise exc.with_file(path) from None


@functools.cache
def get_resume() -> Resume:
    """The site's resume, loaded from ``settings.RESUME_PATH`` once per process.

    Call ``get_resume.cache_clear()`` to reload; changing ``RESUME_PATH`` with Django's
    ``override_settings`` (or pytest-django's ``settings`` fixture) clears the cache too.
    """
    return load_resume(Path(getattr(settings, "RESUME_PATH", DEFAULT_RESUME_PATH)))


def owner_name() -> str:
    """The resume's owner, as the admin's header names them (settings.OWNER_NAME)."""
    return get_resume().basics.name


@receiver(setting_changed, dispatch_uid="resume.resume.reset_resume_cache")
def _reset_resume_cache(*, setting: str, **kwargs: object) -> None:
    if setting == "RESUME_PATH":
        get_resume.cache_clear()
