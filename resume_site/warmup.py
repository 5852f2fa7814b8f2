"""The part of the first request's lazy work that every first request needs, done when the
process starts instead.

Django leaves work to the first request of a process: importing the URLconf and every view module
it names (the counter's services and PynamoDB with them) and building the URL resolver. On
Lambda, a process serves requests one at a time and lives for minutes, so whoever arrives first
pays for it. `resume_site.wsgi` calls `caches_warm()` right after building the WSGI application,
which Zappa does during Lambda's init phase (`INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT`,
docs/performance.md).

The resume page is not rendered here: a deployed process's first request is almost always a
POST to the counter, since the page itself is served from the distribution's cache, so its
templates are compiled and the page rendered by the first GET that reaches the process
(`resume.views.page_html`, once per process), not by every cold start.

Nothing here touches the network: no DynamoDB request and no AWS client (making a client
resolves credentials, which outside Lambda can mean a call to the instance metadata endpoint).
The counter's client is made by the first request that counts, once per process.
"""

import logging

from django.urls import get_resolver

logger = logging.getLogger(__name__)

# Paths whose view modules the warm-up imports.
PATHS = ("/", "/api/count")


def caches_warm() -> bool:
    """Do the first request's common lazy work now; True if all of it was done.

    A failure is logged and swallowed: a request meets the same problem later and answers it
    the usual way (a 500 for the page), while a process that fails to start answers nothing.
    """
    try:
        resolver = get_resolver()
        for path in PATHS:
            resolver.resolve(path)  # imports the view modules behind each route
    except Exception:
        logger.exception("Warm-up failed; the first requests will do this work themselves.")
        return False
    return True
