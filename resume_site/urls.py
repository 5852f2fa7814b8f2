"""URL routes: the resume page, the counter API, the owner's admin and what crawlers ask for."""

from django.contrib import admin
from django.urls import include, path

from resume_site import views

urlpatterns = [
    path("", views.resume, name="resume"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("api/", include("counter.urls")),
    path("admin/", admin.site.urls),
]
