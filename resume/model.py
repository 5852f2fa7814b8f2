"""The resume's typed structure: what ``resume.json`` becomes once it is valid.

Kept apart from the reading of the file (resume/parse.py) so that the templates and the views
that use a resume see its fields and their labels without the validation around them; every
instance is frozen, since one resume is loaded per process and shared by every request.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
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
]

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
