"""Settings of the example blog. Everything that differs between machines comes from the environment:
DB_HOST, DB_NAME, DB_USER and DB_PASSWORD_FILE (a file, here the compose secret /run/secrets/db_password),
DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS (comma-separated)."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _secret(var, default=""):
    """The content of the file named by the environment variable `var` (without its final newline)."""
    path = os.environ.get(var)
    if not path or not os.path.exists(path):  # e.g. `collectstatic` in the nginx image's build: no database needed
        return default
    with open(path, encoding="utf-8") as f:
        return f.read().rstrip("\r\n")


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "django-insecure-example-only-set-DJANGO_SECRET_KEY")
DEBUG = False
# 127.0.0.1 and localhost: the published port; nginx passes the client's Host on. app: the healthcheck and other services.
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,app").split(",")

INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "blog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mysite.urls"
WSGI_APPLICATION = "mysite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    },
]

# MariaDB through mysqlclient (Debian's python3-mysqldb).
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.mysql",
        "HOST": os.environ.get("DB_HOST", "db"),
        "PORT": os.environ.get("DB_PORT", "3306"),
        "NAME": os.environ.get("DB_NAME", "blog"),
        "USER": os.environ.get("DB_USER", "blog"),
        "PASSWORD": _secret("DB_PASSWORD_FILE"),
        "OPTIONS": {"charset": "utf8mb4"},
        "CONN_MAX_AGE": 60,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# Static files: `collectstatic` copies them to STATIC_ROOT in the nginx image, which serves /static/ itself.
STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("STATIC_ROOT", "/srv/static")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
