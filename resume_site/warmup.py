"""The first request's lazy work, done when the process starts instead.

Django leaves work to the first request of a process: importing the URLconf and every view module
it names, building the URL resolver, compiling templates (then kept by the cached template
loader), reading the static manifest; and the resume page is rendered once per process
(`views.page_html`). On Lambda, a process serves requests one at a time and lives for minutes,
so whoever arrives first pays for all of it. `resume_site.wsgi` calls `caches_warm()` right after
building the WSGI application, which Zappa does during Lambda's init phase
(`INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT`, docs/performance.md).

Nothing here touches the network: no DynamoDB request and no AWS client (making a client
resolves credentials, which outside Lambda can mean a call to the instance metadata endpoint).
The counter's client is made by the first request that counts, once per process.
"""

import logging

from django.template.loader import get_template
from django.urls import get_resolver, reverse

from resume import seo
from resume.views import TEMPLATE, page_html

logger = logging.getLogger(__name__)

# Paths whose view modules the warm-up imports, and the named URLs whose reverse map it builds.
PATHS = ("/", "/api/count")
NAMES = ("resume", "counter:count", "admin:index")


def caches_warm() -> bool:
    """Do the first request's lazy work now; True if all of it was done.

    A failure is logged and swallowed: a request meets the same problem later and answers it
    the usual way (a 500 for the page), while a process that fails to start answers nothing.
    """
    try:
        resolver = get_resolver()
        for path in PATHS:
            resolver.resolve(path)  # imports the view modules behind each route
        for name in NAMES:
            reverse(name)  # builds the reverse lookup tables of every URLconf
        url = seo.site_url_get(name="resume")
        count_url = seo.site_url_get(name="counter:count")
        if url is not None and count_url is not None:
            # The page every visit starts with, rendered once per process: parses the resume,
            # compiles the templates (kept by the cached loader), loads their tags and reads
            # the static manifest for {% static %}.
            page_html(url=url, count_url=count_url)
        else:
            # Without SITE_URL (locally) the page's URL comes from each request: compile only.
            get_template(TEMPLATE)
    except Exception:
        logger.exception("Warm-up failed; the first requests will do this work themselves.")
        return False
    return True
