"""URL routes: the resume page and the counter API."""

from django.urls import include, path

from resume_site import views

urlpatterns = [
    path("", views.resume, name="resume"),
    path("api/", include("counter.urls")),
]
