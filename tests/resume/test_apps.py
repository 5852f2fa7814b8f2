"""resume/apps.py: a broken resume.json stops start-up, unless validation is turned off."""

from collections.abc import Callable
from pathlib import Path

import pytest
from django.apps import apps

from resume.model import ResumeError
from resume.resume import get_resume


@pytest.fixture
def broken_resume(use_resume: Callable[[object], Path]) -> Path:
    """A resume without the required basics.name, as the site's resume."""
    return use_resume({"basics": {"label": "Cloud Engineer"}})


def test_ready_raises_for_a_broken_resume(broken_resume: Path, settings) -> None:
    settings.RESUME_VALIDATE_ON_STARTUP = True

    with pytest.raises(ResumeError, match=r"basics\.name: required field is missing"):
        apps.get_app_config("resume").ready()


def test_ready_skips_validation_when_disabled(broken_resume: Path, settings) -> None:
    settings.RESUME_VALIDATE_ON_STARTUP = False

    apps.get_app_config("resume").ready()

    with pytest.raises(ResumeError):
        get_resume()


def test_ready_loads_a_valid_resume_into_the_cache() -> None:
    get_resume.cache_clear()  # earlier tests may have loaded it

    apps.get_app_config("resume").ready()

    assert get_resume.cache_info().currsize == 1
