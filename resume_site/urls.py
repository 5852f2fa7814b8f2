"""URL routes: the resume page, the counter API and the owner's admin."""

from django.contrib import admin
from django.urls import include, path

from resume_site import views

urlpatterns = [
    path("", views.resume, name="resume"),
    path("api/", include("counter.urls")),
    path("admin/", admin.site.urls),
]
