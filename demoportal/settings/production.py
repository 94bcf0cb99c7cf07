"""Production: every secret from the environment, HTTPS everywhere. `manage.py check --deploy` passes."""

from django.core.exceptions import ImproperlyConfigured

from demoportal.settings.base import *  # noqa: F403
from demoportal.settings.base import DATABASE_POOL, SECRET_KEY
from demoportal.settings.environment import env

if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be a real secret of at least 50 characters in production; "
        "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))'"
    )

DEBUG = False

# SECURITY
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# A load balancer probes /healthz over plain HTTP; SecurityMiddleware now runs before the health check.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# Preloading binds the whole registrable domain to HTTPS for years: the domain owner opts in with
# DJANGO_SECURE_HSTS_PRELOAD, so the check that nags about it is silenced rather than the default flipped.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
CSRF_TRUSTED_ORIGINS = [f"https://{PORTAL_HOST}", f"https://*.{DEMO_DOMAIN}"]
if not DATABASE_POOL:  # the web process pools (base.py); the others reuse their connection a minute
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)

# EMAIL: SMTP from the environment (EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS).
