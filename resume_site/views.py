from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from resume_site.resume import get_resume


@require_safe
@cache_control(public=True, max_age=300)
def resume(request: HttpRequest) -> HttpResponse:
    """The resume page (GET and HEAD), rendered from resume.json; never touches DynamoDB."""
    return render(request, "resume/resume.html", {"resume": get_resume()})
