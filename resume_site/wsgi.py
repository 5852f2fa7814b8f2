"""WSGI entry point: Zappa's handler (`app_function`) and any WSGI server load `application`.

Building the application sets Django up (settings, apps, middleware); `caches_warm()` then does
the part of the first request's work every request needs. On Lambda both run in the init phase,
before the first visitor arrives (docs/performance.md). Both make what the process keeps to its
end, so they run with the cyclic garbage collector off and what they made is frozen
(core/lifetime.py).
"""

import os

from core.lifetime import kept_for_life

with kept_for_life("Django's set-up"):
    from django.core.wsgi import get_wsgi_application

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resume_site.settings")

    application = get_wsgi_application()

    # Imported once the apps are loaded: the warm-up imports every view module, and a view
    # module may import models.
    from resume_site.warmup import caches_warm

    caches_warm()
