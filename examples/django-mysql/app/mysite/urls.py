"""URLs: the blog's page at /, its JSON API under /api/, and /healthz for the container's healthcheck."""
from django.urls import path

from blog import views

urlpatterns = [
    path("", views.index, name="index"),
    path("api/posts", views.api_posts, name="api-posts"),
    path("healthz", views.healthz, name="healthz"),
]
