"""pytest: the real PostgreSQL and Redis, on Redis databases of their own so a running `make run` is untouched."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "django-insecure-test-only-key-never-used-in-production-0123456789")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/demoportal")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379")
# Forced, not defaulted: a developer's .env naming the development databases must not reach the tests.
os.environ["REDIS_BROKER_DB"] = "10"
os.environ["REDIS_CACHE_DB"] = "11"
os.environ["REDIS_CHANNELS_DB"] = "12"
os.environ["DASHBOARD_TIME_ZONE"] = "UTC"  # the dashboards' days; a test of another zone sets its own
os.environ["HEARTBEAT_INTERVAL"] = "0.5"
os.environ["LIVE_TICK_SECONDS"] = "0.5"
os.environ.setdefault("SANDBOX_POOL_SIZE", "0")  # tests that use the pool set its size themselves

from demoportal.settings.base import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",  # fast hashing; tests only
    "demoportal.core.hashers.GeneratedPasswordHasher",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the source folders, as in development (no collectstatic in tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# allauth limits sign-ups and logins per IP through the cache; every test client is 127.0.0.1.
ACCOUNT_RATE_LIMITS = False
