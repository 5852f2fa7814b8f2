"""resume/resume.py: resume.json is read, stopped with its file named, and kept per process."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from resume.model import Resume, ResumeError
from resume.resume import DEFAULT_RESUME_PATH, get_resume, load_resume

WriteResume = Callable[[object], Path]


def test_example_file_loads_with_every_section_populated() -> None:
    resume = load_resume(DEFAULT_RESUME_PATH)

    assert isinstance(resume, Resume)
    assert resume.basics.name == "Alex Rivera"
    assert resume.basics.label
    assert resume.basics.email
    assert resume.basics.location is not None
    assert resume.basics.profiles
    assert resume.work
    assert resume.education
    assert resume.skills
    assert all(group.keywords for group in resume.skills)
    assert resume.projects
    assert resume.certificates


def test_a_wrong_field_is_named_with_its_file(
    example_data: dict[str, Any], write_resume: WriteResume
) -> None:
    example_data["work"][0]["startDate"] = "soon"
    path = write_resume(example_data)

    with pytest.raises(ResumeError) as excinfo:
        load_resume(path)

    assert str(excinfo.value).startswith(f"{path}: work[0].startDate: expected a date string")
    assert excinfo.value.file == path


def test_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "resume.json"
    path.write_text('{\n  "basics": {\n    "name": "Alex",\n  }\n}\n', encoding="utf-8")

    with pytest.raises(ResumeError) as excinfo:
        load_resume(path)

    assert "invalid JSON at line 3, column 19" in str(excinfo.value)
    assert str(path) in str(excinfo.value)


def test_missing_file_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"

    with pytest.raises(ResumeError) as excinfo:
        load_resume(path)

    assert str(excinfo.value) == f"{path}: resume file not found"
    assert excinfo.value.file == path


def test_get_resume_loads_the_configured_file_once(
    example_data: dict[str, Any], use_resume: Callable[[object], Path]
) -> None:
    example_data["basics"]["name"] = "Sam Okafor"
    path = use_resume(example_data)

    first = get_resume()
    path.write_text("not json", encoding="utf-8")

    assert first.basics.name == "Sam Okafor"
    assert get_resume() is first


def test_changing_resume_path_reloads_the_resume(
    example_data: dict[str, Any], use_resume: Callable[[object], Path]
) -> None:
    before = get_resume()
    example_data["basics"]["name"] = "Sam Okafor"

    use_resume(example_data)

    assert before.basics.name == "Alex Rivera"
    assert get_resume().basics.name == "Sam Okafor"
