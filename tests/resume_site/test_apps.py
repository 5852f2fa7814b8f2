from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps

from resume_site.resume import ResumeError, get_resume


@pytest.fixture
def broken_resume(tmp_path: Path, settings) -> Iterator[Path]:
    path = tmp_path / "resume.json"
    path.write_text('{"basics": {"label": "Cloud Engineer"}}', encoding="utf-8")
    settings.RESUME_PATH = path
    get_resume.cache_clear()
    yield path
    get_resume.cache_clear()


def test_ready_raises_for_a_broken_resume(broken_resume: Path, settings) -> None:
    settings.RESUME_VALIDATE_ON_STARTUP = True

    with pytest.raises(ResumeError, match=r"basics\.name: required field is missing"):
        apps.get_app_config("resume_site").ready()


def test_ready_skips_validation_when_disabled(broken_resume: Path, settings) -> None:
    settings.RESUME_VALIDATE_ON_STARTUP = False

    apps.get_app_config("resume_site").ready()

    with pytest.raises(ResumeError):
        get_resume()


def test_ready_loads_a_valid_resume_into_the_cache() -> None:
    get_resume.cache_clear()

    apps.get_app_config("resume_site").ready()

    assert get_resume.cache_info().currsize == 1
