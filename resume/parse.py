"""Validate decoded ``resume.json`` (the JSON Resume shape) into a typed :class:`Resume`.

Validation is strict about the fields the page shows and lenient about everything else: unknown
keys and sections are ignored, so a file exported from any JSON Resume tool loads as long as the
fields used here are well formed. Every problem raises :class:`ResumeError`, whose message names
the field with a JSON path::

    work[1].startDate: expected a date string YYYY-MM or YYYY-MM-DD, got '2020/13'

Only the standard library is used, so the rules can be read (and tested) without Django; reading
the file and caching the result are resume/resume.py's.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from resume.model import (
    Basics,
    Certificate,
    Education,
    Location,
    PartialDate,
    Profile,
    Project,
    Resume,
    ResumeError,
    SkillGroup,
    Work,
)

__all__ = ["parse_resume"]

_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?")
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL_RE = re.compile(rf"[^@\s\"<>(),:;\[\]\\]+@{_HOST_LABEL}(?:\.{_HOST_LABEL})+")
_PHONE_RE = re.compile(r"\+?[0-9][0-9 ().\-]*[0-9]")
_COUNTRY_CODE_RE = re.compile(r"[A-Za-z]{2}")
_URL_SCHEMES = frozenset({"http", "https"})


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
