"""The page's routes: the resume, and what crawlers and browsers ask for beside it."""

from django.urls import path

from resume import views

urlpatterns = [
    path("", views.resume, name="resume"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("favicon.ico", views.favicon, name="favicon"),
]
