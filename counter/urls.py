from django.urls import path, re_path

from counter import views

app_name = "counter"

urlpatterns = [
    path("count", views.count, name="count"),
    path("click", views.click, name="click"),
    path("health", views.health, name="health"),
    path("openapi.json", views.openapi, name="openapi"),
    # Last: any other path under /api/ is a 404 in the API's one error shape, not an HTML page.
    re_path(r"", views.not_found, name="not_found"),
]
