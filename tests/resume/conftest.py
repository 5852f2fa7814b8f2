"""Fixtures of the resume app's tests: the example resume, and serving other resume data."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from resume.resume import DEFAULT_RESUME_PATH


@pytest.fixture
def example_data() -> dict[str, Any]:
    """A fresh copy of the example resume (resume/data/resume.json), free to change."""
    return json.loads(DEFAULT_RESUME_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def write_resume(tmp_path: Path) -> Callable[[object], Path]:
    """Write data as JSON to a temporary resume.json and return its path."""

    def write(data: object) -> Path:
        path = tmp_path / "resume.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    return write


@pytest.fixture
def use_resume(write_resume: Callable[[object], Path], settings) -> Callable[[object], Path]:
    """Make the site load the given data as its resume; returns the file's path.

    Changing RESUME_PATH through the settings fixture empties get_resume's cache, on the change
    and again when the fixture restores the setting.
    """

    def use(data: object) -> Path:
        settings.RESUME_PATH = write_resume(data)
        return settings.RESUME_PATH

    return use
