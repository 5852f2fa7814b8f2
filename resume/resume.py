"""Load and validate the resume data (``resume.json``, in the JSON Resume shape).

The resume page renders from a typed, validated :class:`Resume`. Validation is strict about the
fields the page shows and lenient about everything else: unknown keys and sections are ignored,
so a file exported from any JSON Resume tool loads as long as the fields used here are well formed.

Every problem raises :class:`ResumeError`, whose message names the field with a JSON path::

    work[1].startDate: expected a date string YYYY-MM or YYYY-MM-DD, got '2020/13'

Only the standard library is used for validation; Django is used only to find the configured
file (``settings.RESUME_PATH``) and to reset the cache when that setting changes in tests.
"""

from __future__ import annotations

import calendar
import datetime
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

__all__ = [
    "DEFAULT_RESUME_PATH",
    "Basics",
    "Certificate",
    "Education",
    "Location",
    "PartialDate",
    "Profile",
    "Project",
    "Resume",
    "ResumeError",
    "SkillGroup",
    "Work",
    "get_resume",
    "load_resume",
    "parse_resume",
]

DEFAULT_RESUME_PATH = Path(__file__).resolve().parent / "data" / "resume.json"

_MONTH_ABBREVIATIONS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?")
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL_RE = re.compile(rf"[^@\s\"<>(),:;\[\]\\]+@{_HOST_LABEL}(?:\.{_HOST_LABEL})+")
_PHONE_RE = re.compile(r"\+?[0-9][0-9 ().\-]*[0-9]")
_COUNTRY_CODE_RE = re.compile(r"[A-Za-z]{2}")
_URL_SCHEMES = frozenset({"http", "https"})


class ResumeError(ValueError):
    """The resume file is missing, is not valid JSON, or has a field that is wrong.

    ``str(error)`` reads like a compiler diagnostic: ``<file>: <field>: <problem>``, where the
    file and field parts appear when known. The parts are also available as attributes.
    """

    def __init__(self, problem: str, *, field: str | None = None, file: Path | None = None):
        self.problem = problem
        self.field = field
        self.file = file
        parts = [str(part) for part in (file, field) if part is not None]
        super().__init__(": ".join([*parts, problem]))

    def with_file(self, file: Path) -> ResumeError:
        """The same error, naming the file it came from."""
        return ResumeError(self.problem, field=self.field, file=file)


# --- The typed structure ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date with month precision (``2021-03``) or day precision (``2021-03-15``)."""

    year: int
    month: int
    day: int | None = None

    @property
    def iso(self) -> str:
        """The date as written in the file; valid in ``<time datetime="...">``."""
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    @property
    def label(self) -> str:
        """A short human label, e.g. ``Mar 2021`` (resumes show months, whatever the precision)."""
        return f"{_MONTH_ABBREVIATIONS[self.month - 1]} {self.year}"

    @property
    def earliest(self) -> datetime.date:
        return datetime.date(self.year, self.month, self.day or 1)

    @property
    def latest(self) -> datetime.date:
        last_day = calendar.monthrange(self.year, self.month)[1]
        return datetime.date(self.year, self.month, self.day or last_day)

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True, slots=True)
class Location:
    city: str
    country_code: str
    region: str | None = None

    @property
    def label(self) -> str:
        """E.g. ``Portland, Oregon, US``."""
        return ", ".join(part for part in (self.city, self.region, self.country_code) if part)

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True, slots=True)
class Profile:
    network: str
    url: str
    username: str | None = None


@dataclass(frozen=True, slots=True)
class Basics:
    name: str
    label: str
    email: str
    summary: str
    phone: str | None = None
    url: str | None = None
    location: Location | None = None
    profiles: tuple[Profile, ...] = ()

    @property
    def tel_uri(self) -> str | None:
        """The phone number as a ``tel:`` link target (digits and a leading plus only)."""
        if self.phone is None:
            return None
        return "tel:" + re.sub(r"[^0-9+]", "", self.phone)


@dataclass(frozen=True, slots=True)
class Work:
    name: str
    position: str
    start_date: PartialDate
    end_date: PartialDate | None = None
    url: str | None = None
    summary: str | None = None
    highlights: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Education:
    institution: str
    area: str
    study_type: str
    start_date: PartialDate
    end_date: PartialDate | None = None


@dataclass(frozen=True, slots=True)
class SkillGroup:
    name: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Project:
    name: str
    description: str
    url: str | None = None
    highlights: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Certificate:
    name: str
    issuer: str
    date: PartialDate | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Resume:
    basics: Basics
    work: tuple[Work, ...] = ()
    education: tuple[Education, ...] = ()
    skills: tuple[SkillGroup, ...] = ()
    projects: tuple[Project, ...] = ()
    certificates: tuple[Certificate, ...] = ()


# --- Validation ------------------------------------------------------------------------------


def _describe(value: object) -> str:
    """How a JSON value reads in an error message: its JSON type, and the value when short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return repr(shown)
    if isinstance(value, list):
        return "a list"
    return "an object"


class _Object:
    """A JSON object under validation, with its JSON path for error messages."""

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self._data = data
        self.path = path

    def field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, problem: str) -> ResumeError:
        return ResumeError(problem, field=self.field(key))

    def _get(self, key: str, *, required: bool) -> Any:
        value = self._data.get(key)
        if value is None and required:
            raise self.error(key, "required field is missing")
        return value

    def _str(self, key: str, *, required: bool) -> str | None:
        value = self._get(key, required=required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {_describe(value)}")
        value = value.strip()
        if not value:
            if required:
                raise self.error(key, "must not be empty")
            return None
        return value

    def required_str(self, key: str) -> str:
        value = self._str(key, required=True)
        if value is None:  # unreachable: _str raises for a missing required value
            raise self.error(key, "required field is missing")
        return value

    def optional_str(self, key: str) -> str | None:
        return self._str(key, required=False)

    def optional_url(self, key: str) -> str | None:
        if self._str(key, required=False) is None:
            return None
        return self.required_url(key)

    def required_url(self, key: str) -> str:
        value = self.required_str(key)
        if not _is_http_url(value):
            raise self.error(key, f"expected an http:// or https:// URL, got {_describe(value)}")
        return value

    def required_email(self, key: str) -> str:
        value = self.required_str(key)
        if not _EMAIL_RE.fullmatch(value):
            raise self.error(key, f"expected an email address, got {_describe(value)}")
        return value

    def optional_phone(self, key: str) -> str | None:
        value = self.optional_str(key)
        if value is not None and not _PHONE_RE.fullmatch(value):
            raise self.error(
                key,
                f"expected a phone number (digits, spaces, + - ( ) .), got {_describe(value)}",
            )
        return value

    def country_code(self, key: str) -> str:
        value = self.required_str(key)
        if not _COUNTRY_CODE_RE.fullmatch(value):
            raise self.error(
                key, f"expected a two-letter ISO 3166-1 country code, got {_describe(value)}"
            )
        return value.upper()

    def optional_date(self, key: str) -> PartialDate | None:
        value = self._get(key, required=False)
        if value is None or value == "":
            return None
        date = _parse_date(value) if isinstance(value, str) else None
        if date is None:
            raise self.error(
                key, f"expected a date string YYYY-MM or YYYY-MM-DD, got {_describe(value)}"
            )
        return date

    def required_date(self, key: str) -> PartialDate:
        self._get(key, required=True)
        value = self.optional_date(key)
        if value is None:
            raise self.error(key, "required field is missing")
        return value

    def date_range(self, start_key: str, end_key: str) -> tuple[PartialDate, PartialDate | None]:
        start = self.required_date(start_key)
        end = self.optional_date(end_key)
        if end is not None and end.latest < start.earliest:
            raise self.error(end_key, f"must not be before {start_key} ({start.iso})")
        return start, end

    def str_list(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        value = self._get(key, required=required)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.error(key, f"expected a list of strings, got {_describe(value)}")
        items: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise ResumeError(
                    f"expected a non-empty string, got {_describe(item)}",
                    field=f"{self.field(key)}[{index}]",
                )
            items.append(item.strip())
        return tuple(items)

    def optional_object(self, key: str) -> _Object | None:
        value = self._get(key, required=False)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(key, f"expected an object, got {_describe(value)}")
        return _Object(value, self.field(key))

    def required_object(self, key: str) -> _Object:
        self._get(key, required=True)
        value = self.optional_object(key)
        if value is None:  # unreachable: _get raises for a missing required value
            raise self.error(key, "required field is missing")
        return value

    def objects(self, key: str) -> list[_Object]:
        """A list of objects; a missing or null list is empty."""
        value = self._get(key, required=False)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(key, f"expected a list of objects, got {_describe(value)}")
        items: list[_Object] = []
        for index, item in enumerate(value):
            path = f"{self.field(key)}[{index}]"
            if not isinstance(item, dict):
                raise ResumeError(f"expected an object, got {_describe(item)}", field=path)
            items.append(_Object(item, path))
        return items


def _parse_date(value: str) -> PartialDate | None:
    match = _DATE_RE.fullmatch(value.strip())
    if match is None:
        return None
    year, month = int(match[1]), int(match[2])
    day = int(match[3]) if match[3] is not None else None
    try:
        datetime.date(year, month, day or 1)
    except ValueError:
        return None
    return PartialDate(year, month, day)


def _is_http_url(value: str) -> bool:
    if any(char.isspace() or not char.isprintable() for char in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in _URL_SCHEMES and bool(parts.hostname)


def _parse_basics(obj: _Object) -> Basics:
    location = obj.optional_object("location")
    return Basics(
        name=obj.required_str("name"),
        label=obj.required_str("label"),
        email=obj.required_email("email"),
        summary=obj.required_str("summary"),
        phone=obj.optional_phone("phone"),
        url=obj.optional_url("url"),
        location=(
            Location(
                city=location.required_str("city"),
                country_code=location.country_code("countryCode"),
                region=location.optional_str("region"),
            )
            if location is not None
            else None
        ),
        profiles=tuple(
            Profile(
                network=profile.required_str("network"),
                url=profile.required_url("url"),
                username=profile.optional_str("username"),
            )
            for profile in obj.objects("profiles")
        ),
    )


def _parse_work(obj: _Object) -> Work:
    name = obj.required_str("name")
    position = obj.required_str("position")
    start, end = obj.date_range("startDate", "endDate")
    return Work(
        name=name,
        position=position,
        start_date=start,
        end_date=end,
        url=obj.optional_url("url"),
        summary=obj.optional_str("summary"),
        highlights=obj.str_list("highlights"),
    )


def _parse_education(obj: _Object) -> Education:
    institution = obj.required_str("institution")
    area = obj.required_str("area")
    study_type = obj.required_str("studyType")
    start, end = obj.date_range("startDate", "endDate")
    return Education(
        institution=institution, area=area, study_type=study_type, start_date=start, end_date=end
    )


def _parse_skill_group(obj: _Object) -> SkillGroup:
    return SkillGroup(
        name=obj.required_str("name"), keywords=obj.str_list("keywords", required=True)
    )


def _parse_project(obj: _Object) -> Project:
    return Project(
        name=obj.required_str("name"),
        description=obj.required_str("description"),
        url=obj.optional_url("url"),
        highlights=obj.str_list("highlights"),
    )


def _parse_certificate(obj: _Object) -> Certificate:
    return Certificate(
        name=obj.required_str("name"),
        issuer=obj.required_str("issuer"),
        date=obj.optional_date("date"),
        url=obj.optional_url("url"),
    )


def parse_resume(data: object) -> Resume:
    """Validate decoded JSON and build the typed :class:`Resume`.

    Raises :class:`ResumeError` naming the first field that is wrong (in file order).
    """
    if not isinstance(data, dict):
        raise ResumeError(f"expected a JSON object at the top level, got {_describe(data)}")
    root = _Object(data, "")
    return Resume(
        basics=_parse_basics(root.required_object("basics")),
        work=tuple(_parse_work(item) for item in root.objects("work")),
        education=tuple(_parse_education(item) for item in root.objects("education")),
        skills=tuple(_parse_skill_group(item) for item in root.objects("skills")),
        projects=tuple(_parse_project(item) for item in root.objects("projects")),
        certificates=tuple(_parse_certificate(item) for item in root.objects("certificates")),
    )


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
