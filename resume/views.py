from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views import defaults
from django.views.decorators.http import require_safe

from resume import seo
from resume.model import Resume
from resume.resume import get_resume

TEMPLATE = "resume/resume.html"
# The page as last rendered: the resume and the URLs it was rendered for, and its HTML.
_rendered: tuple[Resume, tuple[str, str], str] | None = None


def page_html(*, url: str, count_url: str) -> str:
    """The resume page's HTML for its canonical `url` and the counter's `count_url`, rendered
    once per process and reused.

    The page depends on nothing else in the request: it prints no CSP nonce and no CSRF token
    (tests/resume_site/test_security_headers.py holds it to that), only the resume, the
    templates, the static manifest and its two URLs, none of which a running process changes
    (with SITE_URL set they are SITE_URL's whatever the request: resume.seo.page_url_get).
    Rendering it for every visitor would spend a millisecond or two each time on the same output
    (docs/performance.md). It is rendered again for other URLs (locally they follow the host the
    request came to), when the resume is reloaded (`get_resume` returns another object), or when
    a setting changes.
    """
    global _rendered
    resume = get_resume()
    urls = (url, count_url)
    if _rendered is None or _rendered[0] is not resume or _rendered[1] != urls:
        meta = seo.page_meta_build(resume=resume, url=url)
        context = {"resume": resume, "meta": meta, "count_url": count_url}
        with seo.site_paths():  # the page's own links, not the first request's stage
            _rendered = (resume, urls, render_to_string(TEMPLATE, context))
    return _rendered[2]


def edge_cached(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Marks an answer that depends on nothing in the request as cacheable at the edge for
    EDGE_CACHE_SECONDS (a day: every deploy invalidates it, deploy/post_deploy.py) and in
    browsers for BROWSER_CACHE_SECONDS (five minutes, then they revalidate). The distribution's
    cache policy for these paths forwards no cookie, so no answer of theirs may depend on one."""

    @wraps(view)
    def cached(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        patch_cache_control(
            response,
            public=True,
            max_age=settings.BROWSER_CACHE_SECONDS,
            s_maxage=settings.EDGE_CACHE_SECONDS,
        )
        return response

    return cached


@receiver(setting_changed, dispatch_uid="resume.views.forget_page")
def _forget_page(**kwargs: object) -> None:
    global _rendered
    _rendered = None


@require_safe
@edge_cached
def resume(request: HttpRequest) -> HttpResponse:
    """The resume page (GET and HEAD), rendered from resume.json; never touches DynamoDB."""
    url = seo.page_url_get(request=request, name="resume")
    count_url = seo.page_url_get(request=request, name="counter:count")
    return HttpResponse(page_html(url=url, count_url=count_url))


@require_safe
@edge_cached
def robots_txt(request: HttpRequest) -> HttpResponse:
    """Crawlers may read the resume; the owner's admin and the counter API are not for them."""
    return render(request, "robots.txt", content_type="text/plain; charset=utf-8")


@require_safe
@edge_cached
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico by convention: send them to the static icon."""
    return HttpResponseRedirect(static("favicon.ico"))


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The site's 404 page (templates/404.html; Django's handler404, resume_site/urls.py) for
    any missing page but the API's, which answers in its own JSON shape (counter.views).

    It is the same for every viewer, so it is public and cookie-free like the page (the shared
    answer middleware), but kept briefly: browsers for BROWSER_CACHE_SECONDS, the edge for
    EDGE_NOT_FOUND_SECONDS (no deploy invalidates it). Under /admin/ it is never cached, as no
    answer of the admin is."""
    response = defaults.page_not_found(request, exception)
    if request.path_info.startswith("/admin/"):
        add_never_cache_headers(response)
    else:
        patch_cache_control(
            response,
            public=True,
            max_age=settings.BROWSER_CACHE_SECONDS,
            s_maxage=settings.EDGE_NOT_FOUND_SECONDS,
        )
    return response
