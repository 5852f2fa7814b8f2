"""URL routes: the resume page, the counter API and the owner's admin, each from its app."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("resume.urls")),
    path("api/", include("counter.urls")),
    path("admin/", admin.site.urls),
]
