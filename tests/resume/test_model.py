"""resume/model.py: the resume's fields read as the page shows them, its errors as diagnostics."""

from pathlib import Path

from resume.model import Location, PartialDate, ResumeError
from resume.resume import DEFAULT_RESUME_PATH, load_resume


def test_phone_becomes_a_tel_uri() -> None:
    resume = load_resume(DEFAULT_RESUME_PATH)

    assert resume.basics.phone == "+1 503 555 0142"
    assert resume.basics.tel_uri == "tel:+15035550142"


def test_a_partial_date_shows_its_month_and_spans_it() -> None:
    month, day = PartialDate(2024, 2), PartialDate(2024, 2, 9)

    assert (month.iso, str(month), str(day), day.iso) == (
        "2024-02",
        "Feb 2024",
        "Feb 2024",
        "2024-02-09",
    )
    assert (month.earliest.day, month.latest.day) == (1, 29)
    assert day.earliest == day.latest


def test_a_location_leaves_out_a_missing_region() -> None:
    assert str(Location("Lisbon", "PT")) == "Lisbon, PT"
    assert str(Location("Portland", "US", "Oregon")) == "Portland, Oregon, US"


def test_a_resume_error_reads_file_field_problem() -> None:
    error = ResumeError("must not be empty", field="basics.label")

    assert str(error) == "basics.label: must not be empty"
    assert str(error.with_file(Path("r.json"))) == "r.json: basics.label: must not be empty"
    assert error.with_file(Path("r.json")).file == Path("r.json")
