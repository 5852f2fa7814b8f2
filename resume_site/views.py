from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from resume_site import seo
from resume_site.resume import get_resume


@require_safe
@cache_control(public=True, max_age=300)
def resume(request: HttpRequest) -> HttpResponse:
    """The resume page (GET and HEAD), rendered from resume.json; never touches DynamoDB."""
    data = get_resume()
    url = seo.page_url_get(request=request, path=reverse("resume"))
    return render(
        request,
        "resume/resume.html",
        {"resume": data, "meta": seo.page_meta_build(resume=data, url=url)},
    )


@require_safe
@cache_control(public=True, max_age=86400)
def robots_txt(request: HttpRequest) -> HttpResponse:
    """Crawlers may read the resume; the owner's admin and the counter API are not for them."""
    return render(request, "robots.txt", content_type="text/plain; charset=utf-8")


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico by convention: send them to the static icon."""
    return HttpResponseRedirect(static("favicon.ico"))
