"""The resume page app: the page, its data (data/resume.json), its SEO and template tags."""

from django.apps import AppConfig
from django.conf import settings

from resume.resume import get_resume


class ResumeConfig(AppConfig):
    name = "resume"
    verbose_name = "Resume"

    def ready(self) -> None:
        # Validate resume.json at start-up so a broken file stops the process with a
        # ResumeError naming the field, instead of failing on the first page view.
        if getattr(settings, "RESUME_VALIDATE_ON_STARTUP", True):
            get_resume()
