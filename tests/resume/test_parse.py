"""resume/parse.py: decoded resume.json becomes a typed Resume or is stopped at the bad field."""

from collections.abc import Callable
from typing import Any

import pytest

from resume.model import PartialDate, ResumeError
from resume.parse import parse_resume


def test_dates_are_parsed_and_optional_fields_default_to_none_or_empty(
    example_data: dict[str, Any],
) -> None:
    example_data["work"] = [{"name": "Acme", "position": "Engineer", "startDate": "2021-03"}]
    example_data["certificates"] = [{"name": "Cert", "issuer": "Issuer", "date": "2023-04-18"}]

    resume = parse_resume(example_data)

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
    example_data: dict[str, Any],
) -> None:
    data = {"basics": example_data["basics"], "volunteer": [{"x": 1}], "meta": {"v": 1}}
    data["basics"]["favouriteColour"] = "teal"

    resume = parse_resume(data)

    assert resume.work == ()
    assert resume.education == ()
    assert resume.skills == ()
    assert resume.projects == ()
    assert resume.certificates == ()


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
    mutate: Callable[[dict[str, Any]], None],
    expected: str,
) -> None:
    mutate(example_data)

    with pytest.raises(ResumeError) as excinfo:
        parse_resume(example_data)

    assert expected in str(excinfo.value)
    assert str(excinfo.value).startswith(f"{excinfo.value.field}: ")


def test_top_level_must_be_an_object() -> None:
    with pytest.raises(ResumeError, match="expected a JSON object at the top level, got a list"):
        parse_resume([1, 2])


def test_resume_error_is_a_value_error_with_its_parts(
    example_data: dict[str, Any],
) -> None:
    example_data["work"][0]["startDate"] = "soon"

    with pytest.raises(ValueError) as excinfo:
        parse_resume(example_data)

    error = excinfo.value
    assert isinstance(error, ResumeError)
    assert error.field == "work[0].startDate"
    assert error.problem.startswith("expected a date string")
