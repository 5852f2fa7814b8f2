"""WSGI entry point: Zappa's handler and any WSGI server load `application` from here."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resume_site.settings")

application = get_wsgi_application()
