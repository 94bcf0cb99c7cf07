"""Development on a laptop: `make run`. Defaults point at PostgreSQL and Redis on 127.0.0.1."""

import os
from pathlib import Path

import environ

# A developer's own overrides (see .env.example); the process environment still wins.
environ.Env.read_env(Path(__file__).resolve().parent.parent.parent / ".env")
os.environ.setdefault("DJANGO_SECRET_KEY", "django-insecure-local-development-only-key-never-used-in-production")
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/demoportal")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379")
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")  # reuse connections, as in production
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
os.environ.setdefault("DEMO_STAFF_USERS", "true")
os.environ.setdefault("DEMO_SAMPLE_ACTIVITY", "1000")  # labelled sample leads for the dashboards (make run)
os.environ.setdefault("DEMO_SANDBOX", "true")

from demoportal.settings.base import *  # noqa: E402,F403
from demoportal.settings.base import DEBUG, EMAIL_BACKEND  # noqa: E402

# /dev/mailbox/ shows the mail the file backend writes (docs/architecture.md); no other settings route it.
DEV_MAILBOX = DEBUG and EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend"
