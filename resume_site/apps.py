from django.apps import AppConfig
from django.conf import settings

from resume_site.resume import get_resume


class ResumeSiteConfig(AppConfig):
    name = "resume_site"
    verbose_name = "Resume site"

    def ready(self) -> None:
        # Validate resume.json at start-up so a broken file stops the process with a
        # ResumeError naming the field, instead of failing on the first page view.
        if getattr(settings, "RESUME_VALIDATE_ON_STARTUP", True):
            get_resume()
