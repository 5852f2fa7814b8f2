"""resume/resume.py: resume.json is loaded into a typed Resume or stopped at the bad field."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from resume.resume import (
    DEFAULT_RESUME_PATH,
    PartialDate,
    Resume,
    ResumeError,
    get_resume,
    load_resume,
)

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


def test_dates_are_parsed_and_optional_fields_default_to_none_or_empty(
    example_data: dict[str, Any], write_resume: WriteResume
) -> None:
    example_data["work"] = [{"name": "Acme", "position": "Engineer", "startDate": "2021-03"}]
    example_data["certificates"] = [{"name": "Cert", "issuer": "Issuer", "date": "2023-04-18"}]

    resume = load_resume(write_resume(example_data))

    job = resume.work[0]
    assert job.start_date == PartialDate(2021, 3)
    assert job.start_date.iso == "2021-03"
    assert job.start_date.label == "Mar 2021"
    assert job.end_date is None
    assert job.url is None
    assert job.summary is None
    assert job.highlights == ()
    assert resume.certificates[0].date == PartialDate(2023, 4, 18)
    assert resume.certificates[0].date.iso == "2023-04-18"


def test_missing_sections_are_empty_and_unknown_keys_are_ignored(
    example_data: dict[str, Any], write_resume: WriteResume
) -> None:
    data = {"basics": example_data["basics"], "volunteer": [{"x": 1}], "meta": {"v": 1}}
    data["basics"]["favouriteColour"] = "teal"

    resume = load_resume(write_resume(data))

    assert resume.work == ()
    assert resume.education == ()
    assert resume.skills == ()
    assert resume.projects == ()
    assert resume.certificates == ()


def test_phone_becomes_a_tel_uri() -> None:
    resume = load_resume(DEFAULT_RESUME_PATH)

    assert resume.basics.phone == "+1 503 555 0142"
    assert resume.basics.tel_uri == "tel:+15035550142"


def _set(path: list[str | int], value: object) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(path: list[str | int]) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(
            _delete(["basics", "name"]), "basics.name: required field is missing", id="no-name"
        ),
        pytest.param(
            _set(["basics", "label"], "   "), "basics.label: must not be empty", id="blank-label"
        ),
        pytest.param(
            _set(["work"], "Northwind"), "work: expected a list of objects", id="work-not-list"
        ),
        pytest.param(
            _set(["work", 1], "Contoso"), "work[1]: expected an object", id="work-item-not-object"
        ),
        pytest.param(
            _set(["work", 0, "startDate"], "2020/13"),
            "work[0].startDate: expected a date string YYYY-MM or YYYY-MM-DD, got '2020/13'",
            id="bad-start-date",
        ),
        pytest.param(
            _set(["work", 1, "endDate"], "2021-02-30"),
            "work[1].endDate: expected a date string",
            id="impossible-date",
        ),
        pytest.param(
            _set(["work", 1, "endDate"], "2017-01"),
            "work[1].endDate: must not be before startDate (2018-06)",
            id="end-before-start",
        ),
        pytest.param(
            _set(["work", 0, "position"], 42),
            "work[0].position: expected a string, got a number (42)",
            id="number-for-string",
        ),
        pytest.param(
            _delete(["education", 0, "studyType"]),
            "education[0].studyType: required field is missing",
            id="no-study-type",
        ),
        pytest.param(
            _set(["skills", 0, "keywords"], "AWS, GCP"),
            "skills[0].keywords: expected a list of strings",
            id="keywords-not-list",
        ),
        pytest.param(
            _set(["skills", 0, "keywords"], ["AWS", 3]),
            "skills[0].keywords[1]: expected a non-empty string, got a number (3)",
            id="keyword-not-string",
        ),
        pytest.param(
            _set(["basics", "profiles", 1, "url"], "javascript:alert(document.cookie)"),
            "basics.profiles[1].url: expected an http:// or https:// URL",
            id="javascript-url",
        ),
        pytest.param(
            _set(["projects", 0, "url"], "JaVaScRiPt:alert(1)"),
            "projects[0].url: expected an http:// or https:// URL",
            id="mixed-case-javascript-url",
        ),
        pytest.param(
            _set(["basics", "url"], "https://"),
            "basics.url: expected an http:// or https:// URL",
            id="url-without-host",
        ),
        pytest.param(
            _set(["basics", "email"], "alex.example.com"),
            "basics.email: expected an email address",
            id="bad-email",
        ),
        pytest.param(
            _set(["basics", "phone"], "call me"),
            "basics.phone: expected a phone number",
            id="bad-phone",
        ),
        pytest.param(
            _set(["basics", "location", "countryCode"], "USA"),
            "basics.location.countryCode: expected a two-letter ISO 3166-1 country code",
            id="bad-country-code",
        ),
        pytest.param(
            _delete(["projects", 1, "description"]),
            "projects[1].description: required field is missing",
            id="no-project-description",
        ),
        pytest.param(
            _delete(["certificates", 2, "issuer"]),
            "certificates[2].issuer: required field is missing",
            id="no-certificate-issuer",
        ),
        pytest.param(
            _set(["certificates", 0, "date"], 2023),
            "certificates[0].date: expected a date string YYYY-MM or YYYY-MM-DD, got a number",
            id="number-for-date",
        ),
    ],
)
def test_invalid_field_raises_resume_error_naming_the_field(
    example_data: dict[str, Any],
    write_resume: WriteResume,
    mutate: Callable[[dict[str, Any]], None],
    expected: str,
) -> None:
    mutate(example_data)
    path = write_resume(example_data)

    with pytest.raises(ResumeError) as excinfo:
        load_resume(path)

    assert expected in str(excinfo.value)
    assert str(excinfo.value).startswith(f"{path}: ")


def test_top_level_must_be_an_object(write_resume: WriteResume) -> None:
    with pytest.raises(ResumeError, match="expected a JSON object at the top level, got a list"):
        load_resume(write_resume([1, 2]))


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


def test_resume_error_is_a_value_error_with_its_parts(
    example_data: dict[str, Any], write_resume: WriteResume
) -> None:
    example_data["work"][0]["startDate"] = "soon"

    with pytest.raises(ValueError) as excinfo:
        load_resume(write_resume(example_data))

    error = excinfo.value
    assert isinstance(error, ResumeError)
    assert error.field == "work[0].startDate"
    assert error.problem.startswith("expected a date string")


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
