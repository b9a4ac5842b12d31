"""The blog's views: the page listing the posts (with a form to add one), a JSON API, and a health check."""
import json

import django
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .models import Post


def _validate(title, body):
    """The error in a post's fields, or None."""
    if not isinstance(title, str) or not title.strip():
        return "a title is required"
    if len(title) > 200:
        return "the title is longer than 200 characters"
    if not isinstance(body, str):
        return "the body must be text"
    return None


def _database_version():
    with connection.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        return cursor.fetchone()[0]


@require_http_methods(["GET", "HEAD", "POST"])
def index(request):
    """GET: every post, newest first. POST (the form, with Django's CSRF token): adds a post, then back to the list."""
    error = None
    if request.method == "POST":
        title, body = request.POST.get("title", ""), request.POST.get("body", "")
        error = _validate(title, body)
        if error is None:
            Post.objects.create(title=title.strip(), body=body)
            return redirect("index")
    context = {
        "posts": Post.objects.all(),
        "error": error,
        "django_version": django.get_version(),
        "server": request.META.get("SERVER_SOFTWARE", "?"),  # gunicorn/20.1.0 under gunicorn
        "database": _database_version(),
    }
    return render(request, "blog/index.html", context, status=400 if error else 200)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def api_posts(request):
    """GET /api/posts: the posts as JSON. POST /api/posts {"title": ..., "body": ...}: adds one (201, the new post)."""
    if request.method == "GET":
        return JsonResponse({"posts": [p.as_dict() for p in Post.objects.all()]})
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"error": "the body is not JSON"}, status=400)
    if not isinstance(data, dict):
        return JsonResponse({"error": "the body is not a JSON object"}, status=400)
    title, body = data.get("title"), data.get("body", "")
    error = _validate(title, body)
    if error:
        return JsonResponse({"error": error}, status=400)
    post = Post.objects.create(title=title.strip(), body=body)
    return JsonResponse(post.as_dict(), status=201)


def healthz(request):
    """For the healthcheck: the app answers and reaches its table."""
    Post.objects.exists()
    return HttpResponse("ok\n", content_type="text/plain")
