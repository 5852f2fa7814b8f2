"""WSGI entry point: Zappa's handler (`app_function`) and any WSGI server load `application`.

Building the application sets Django up (settings, apps, middleware); `caches_warm()` then does
the work Django would leave to the first request. On Lambda both run in the init phase, before
the first visitor arrives (docs/performance.md).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resume_site.settings")

application = get_wsgi_application()

# Imported once the apps are loaded: the warm-up imports every view module, and a view module
# may import models.
from resume_site.warmup import caches_warm  # noqa: E402

caches_warm()
