"""URL routes: the resume page, the counter API and the owner's admin, each from its app; and
the site's 404 page, with its own Cache-Control (resume.views.not_found)."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("resume.urls")),
    path("api/", include("counter.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "resume.views.not_found"
