"""Settings shared by every environment. Each value is read from the environment (see .env.example)."""

from __future__ import annotations

import ipaddress
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import django_stubs_ext
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from demoportal.settings.environment import env

django_stubs_ext.monkeypatch()  # lets admin and model classes be subscripted for type checking at run time

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def redis_database(url: str, number: int) -> str:
    """``url`` pointed at Redis logical database ``number`` (broker, cache and channel layer each get their own)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{number}", parts.query, ""))


# LinkedIn publishes its OpenID Connect discovery document at <this>/.well-known/openid-configuration.
LINKEDIN_SERVER_URL = "https://www.linkedin.com/oauth"


def socialaccount_providers(*, linkedin_client_id: str, linkedin_client_secret: str) -> dict[str, Any]:
    """allauth's SOCIALACCOUNT_PROVIDERS: "Sign in with LinkedIn" through allauth's OpenID Connect provider
    (LinkedIn is OIDC-compliant; allauth's ``linkedin_oauth2`` provider is deprecated), configured here so
    no SocialApp row is needed. Empty, so no button and no provider, when neither variable is set; one
    without the other is a configuration mistake and stops start-up."""
    if not (linkedin_client_id or linkedin_client_secret):
        return {}
    if not (linkedin_client_id and linkedin_client_secret):
        missing = "LINKEDIN_CLIENT_SECRET" if linkedin_client_id else "LINKEDIN_CLIENT_ID"
        raise ImproperlyConfigured(f"{missing} is not set: LinkedIn sign-in needs both LINKEDIN_CLIENT_ID and it")
    return {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "linkedin",
                    "name": "LinkedIn",
                    "client_id": linkedin_client_id,
                    "secret": linkedin_client_secret,
                    "settings": {"server_url": LINKEDIN_SERVER_URL},
                }
            ],
        }
    }


def sender_with_name(address: str, name: str, *, variable: str = "DEFAULT_FROM_EMAIL") -> str:
    """The sender of the portal's mail with a display name: ``address`` as given when it has one ("Acme Demos
    <demos@acme.example>"), else ``name`` put in front of it. Not an address: start-up stops, naming ``variable``."""
    display, mailbox = parseaddr(address)
    if "@" not in mailbox:
        raise ImproperlyConfigured(f"{variable} is not an e-mail address: {address!r}")
    return formataddr((display or name, mailbox))


def trusted_proxies(variable: str) -> list[str]:
    """The addresses or networks (CIDR) in the comma-separated ``variable``; a typo stops start-up rather than
    silently trusting nobody (uvicorn would take it for a host name that never matches)."""
    proxies: list[str] = env.list(variable, default=[])
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{variable} is malformed: {proxy!r} is no IP address or network") from exc
    return proxies


# CORE
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
# Old keys still accepted for signatures while sessions signed with them age out (key rotation).
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
DEBUG = env.bool("DJANGO_DEBUG", default=False)

# The portal, admin and API answer on PORTAL_HOST; sandbox <slug> answers on <slug>.DEMO_DOMAIN.
DEMO_DOMAIN = env.str("DEMO_DOMAIN", default="localhost")
PORTAL_HOST = env.str("PORTAL_HOST", default=DEMO_DOMAIN)
# localhost and 127.0.0.1 also route to the portal (see sandboxes.services.portal_tenant_ensure).
ALLOWED_HOSTS = [
    PORTAL_HOST,
    f".{DEMO_DOMAIN}",
    "localhost",
    "127.0.0.1",
    *env.list("DJANGO_ALLOWED_HOSTS", default=[]),
]

# APPS
# django-tenants keeps one PostgreSQL schema per sandbox. SHARED_APPS live once, in the public schema;
# TENANT_APPS get their tables in every sandbox schema.
SHARED_APPS = [
    "django_tenants",  # schema routing; must come first
    "channels",  # ASGI consumers and the channel layer (no models)
    "django.contrib.contenttypes",  # both lists: content types must exist in every schema
    "django.contrib.auth",  # users (prospects, sales, marketing, partners) are global, not per sandbox
    "django.contrib.sessions",  # one session table; a sandbox session is host-only on its subdomain
    "django.contrib.messages",
    "django.contrib.admin",  # the sales admin lives on the portal host
    "django.contrib.staticfiles",
    "django.forms",  # the widgets' templates, for FORM_RENDERER (which reads the project's form templates)
    "rest_framework",
    "rest_framework.authtoken",  # staff and integration tokens are global
    "drf_spectacular",
    "csp",  # Content-Security-Policy: its system checks and template tag (no models)
    "drf_spectacular_sidecar",  # Swagger UI's files, served as static files (no CDN)
    "allauth",  # registration and sign-in happen on the portal host
    "allauth.account",
    "allauth.socialaccount",  # LinkedIn sign-in; its tables exist whether or not LinkedIn is configured
    "allauth.socialaccount.providers.openid_connect",  # LinkedIn speaks OpenID Connect (no models)
    "django_celery_beat",  # one beat schedule for the whole system
    "demoportal.core",  # the base (label "demoportal"): the user model, partners, staff groups
    "sandboxes",  # the tenant model itself, its domains and lifecycle
    "analytics",  # prospect activity (events) outlives a sandbox's schema
    "crm",  # calls to action and sales-call bookings outlive a sandbox's schema
    "demoportal.tours",  # guided tours; each prospect's progress sits beside the sandbox row it belongs to
    "demoportal.portal",  # the portal's pages and manage.py bootstrap (no models)
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "simulation",  # per-sandbox plant state: plant, overlays, alarms
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "sandboxes.Sandbox"
TENANT_DOMAIN_MODEL = "sandboxes.Domain"
TENANT_LIMIT_SET_CALLS = True
# New sandboxes are clones of their scenario's template schema (Sandbox.get_base_schema picks it; this
# setting only satisfies django-tenants' check). Templates are tenant rows, so migrate_schemas keeps
# them current: a stale template cannot hand out sandboxes with missing columns.
TENANT_CREATION_FAKES_MIGRATIONS = True
TENANT_BASE_SCHEMA = "template_oil_gas"
PUBLIC_SCHEMA_URLCONF = "demoportal.urls"
ROOT_URLCONF = "demoportal.urls_sandbox"  # what a sandbox's subdomain serves

AUTH_USER_MODEL = "demoportal.User"

# MIDDLEWARE
# The three that set security headers come first, so that every response passes through them on its way
# out: error pages, static files and the answers of middleware that short-circuits (/healthz, a host that
# is no sandbox, an ended sandbox's 410, a busy sandbox's 429) included.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",  # nosniff, Referrer-Policy, HSTS, the HTTPS redirect
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy, with this request's nonce once a page used it
    "demoportal.core.health.HealthCheckMiddleware",  # answers /healthz before anything touches the database
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files on every host, even one that is no sandbox
    "demoportal.core.outage.DatabaseOutageMiddleware",  # before the first query: 503 + Retry-After if no PostgreSQL
    "sandboxes.middleware.SandboxHostMiddleware",  # picks the schema from the Host header
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "demoportal.core.webforms.FormBodyMiddleware",  # after CSRF: a POST to an HTML view that is no form gets 415
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",  # CSP_NONCE, for the rare inline <script>
                "simulation.context_processors.sandbox_plant_clock",  # the sandbox bar's plant clock (lazy)
            ],
        },
    },
]

# Every form is drawn by templates/forms/ (error summary, labelled fields with their errors): one place.
FORM_RENDERER = "demoportal.core.webforms.FormRenderer"

ASGI_APPLICATION = "demoportal.asgi.application"

# BRAND
# The vendor's product brand, as the portal's header shows it: every mail's subject starts with it and mail
# comes from the portal under its name (DEFAULT_FROM_EMAIL), never "[localhost:8000]".
BRAND_NAME = "Process Heat"
PORTAL_NAME = f"{BRAND_NAME} Demo Portal"
MAIL_SUBJECT_PREFIX = f"{BRAND_NAME} · "

# SECURITY HEADERS
# Set on every response by the first middleware (see MIDDLEWARE); docs/architecture.md "Security headers".
X_FRAME_OPTIONS = "DENY"  # no page is ever framed (also frame-ancestors below)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Scripts come from our own static files (vendor libraries included: uPlot, Shepherd); an inline <script>
# runs only with the request's nonce (templates write nonce="{{ CSP_NONCE }}"). Never 'unsafe-inline' or
# 'unsafe-eval' for scripts. Styles may be inline: the admin's templates (django-tenants' app list) and the
# 500 page use <style> and style="", and injected CSS could load nothing from elsewhere to leak what it
# matched, since every fetch (img-src, font-src, connect-src, ...) is held to our own origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],  # no nonce here: browsers ignore 'unsafe-inline' beside one
        "img-src": [SELF, "data:"],  # stylesheets' inline SVG icons (Swagger UI's, Shepherd's)
        # fetch() and the live plant's websocket: CSP Level 3 lets 'self' match ws:/wss: on the page's own
        # host and port, and the websocket only ever goes to the page's own host (/ws/live/).
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        # No form-action: sign-in forms hand over by redirect to LinkedIn, and "Enter" on My sandboxes to
        # the sandbox's own host, and browsers apply form-action to those redirects too.
    },
}

# CLIENT ADDRESSES
# Whose X-Forwarded-For (and X-Forwarded-Proto) to believe: only a connection from one of these (the load
# balancer, a reverse proxy) has its forwarded client address taken as REMOTE_ADDR, the rightmost address
# that is no trusted proxy (demoportal/asgi.py, uvicorn's ProxyHeadersMiddleware). Default: nobody, so a
# client cannot pick its own address to escape per-address limits such as allauth's sign-in throttling.
# uvicorn itself runs with --no-proxy-headers (Procfile): it would otherwise trust 127.0.0.1.
TRUSTED_PROXIES = trusted_proxies("TRUSTED_PROXIES")
# allauth reads REMOTE_ADDR, already the client's: it must not walk X-Forwarded-For again.
ALLAUTH_TRUSTED_PROXY_COUNT = 0
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = None

# DATABASE
DATABASES = {"default": env.postgres_db("DATABASE_URL")}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DATABASE_CONNECT_TIMEOUT", default=3)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # a reused connection is checked first: survives a restart
# Connections per process (docs/operations.md "Database connections"). The web process (ASGI) runs each
# request in a thread of its own, so it borrows from a pool of at most DATABASE_POOL_MAX_SIZE connections
# and gives each back when the request ends; a request beyond that waits up to DATABASE_POOL_TIMEOUT
# seconds. The Procfile's web line sets DATABASE_POOL. The other processes have a fixed number of threads
# (Celery, beat, the simulator) and keep one connection per thread, reused for DATABASE_CONN_MAX_AGE s.
DATABASE_POOL = env.bool("DATABASE_POOL", default=False)
DATABASE_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", default=10)
if DATABASE_POOL_MAX_SIZE < 1:
    raise ImproperlyConfigured(f"DATABASE_POOL_MAX_SIZE is malformed: expected 1 or more, got {DATABASE_POOL_MAX_SIZE}")
if DATABASE_POOL:
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": min(2, DATABASE_POOL_MAX_SIZE),  # kept open while idle
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=30.0),
    }
# A pooled connection goes back to the pool after each request: it has no age of its own.
DATABASES["default"]["CONN_MAX_AGE"] = 0 if DATABASE_POOL else env.int("DATABASE_CONN_MAX_AGE", default=0)
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# REDIS
# One server, three logical databases: the Celery broker (must never evict), the cache, the channel layer.
REDIS_URL = env.url_with_scheme("REDIS_URL", ("redis", "rediss"))
REDIS_BROKER_DB = env.int("REDIS_BROKER_DB", default=0)
REDIS_CACHE_DB = env.int("REDIS_CACHE_DB", default=1)
REDIS_CHANNELS_DB = env.int("REDIS_CHANNELS_DB", default=2)
REDIS_CACHE_URL = redis_database(REDIS_URL, REDIS_CACHE_DB)
REDIS_SOCKET_TIMEOUT = 2.0

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_CACHE_URL,
        "OPTIONS": {"socket_connect_timeout": REDIS_SOCKET_TIMEOUT, "socket_timeout": REDIS_SOCKET_TIMEOUT},
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}

# CHANNELS
# The pub/sub layer, chosen by bench/realtime.py (docs/benchmarks.md): a tick is one PUBLISH that Redis
# pushes to every web process watching the sandbox, where the core layer takes four round trips to send
# and four more per message for each web process to receive, one message at a time, and drops ticks once
# a process falls 100 messages behind. It does not buffer: a viewer resynchronises by the ticks' seq.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": env.str("CHANNEL_LAYER_BACKEND", default="channels_redis.pubsub.RedisPubSubChannelLayer"),
        # redis-py refuses a call beyond its pool's 100 connections instead of waiting: a web process whose
        # viewers all leave at once (a restart, a network blip) makes one group_discard each.
        "CONFIG": {"hosts": [{"address": redis_database(REDIS_URL, REDIS_CHANNELS_DB), "max_connections": 2000}]},
    }
}

# CELERY
CELERY_BROKER_URL = redis_database(REDIS_URL, REDIS_BROKER_DB)
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# Seconds between worker heartbeats written to Redis; /healthz fails a component silent for 3 intervals.
HEARTBEAT_INTERVAL = env.float("HEARTBEAT_INTERVAL", default=5.0)
LIVE_TICK_SECONDS = env.float("LIVE_TICK_SECONDS", default=1.0)  # how often the simulator sends live values

# SANDBOX LIFECYCLE
SANDBOX_LIFETIME_HOURS = env.int("SANDBOX_LIFETIME_HOURS", default=24)
SANDBOX_MAX_DAYS_PROSPECT = 7  # from creation, however often extended
SANDBOX_MAX_DAYS_STAFF = 30

# LEAD SCORING (docs/scoring.md)
# The countries sales cover (ISO 3166 codes): a lead based in one scores fit for it.
SALES_COUNTRIES = env.list(
    "SALES_COUNTRIES",
    default=[
        "US",
        "CA",
        "MX",
        "BR",
        "GB",
        "IE",
        "DE",
        "FR",
        "NL",
        "BE",
        "ES",
        "IT",
        "PL",
        "SE",
        "NO",
        "DK",
        "FI",
        "AT",
        "CH",
        "AE",
        "SA",
        "IN",
        "JP",
        "KR",
        "AU",
        "SG",
    ],
)
LEAD_QUALIFIED_EXTENSION_DAYS = 7  # a lead's sandboxes get this much more time when it becomes an MQL
# Where links in e-mails to staff and in CRM records point (the admin's lead page, "Watch live").
PORTAL_URL = env.str("PORTAL_URL", default=f"http://{PORTAL_HOST}:8000").rstrip("/")

# CRM SYNC (docs/crm.md). Either CRM, both or neither: a CRM is configured when its credentials are set; until
# then its sync rows wait, and are delivered once it is.
SALESFORCE_USERNAME = env.str("SALESFORCE_USERNAME", default="")
SALESFORCE_PASSWORD = env.str("SALESFORCE_PASSWORD", default="")
SALESFORCE_SECURITY_TOKEN = env.str("SALESFORCE_SECURITY_TOKEN", default="")
SALESFORCE_DOMAIN = env.str("SALESFORCE_DOMAIN", default="login")  # "login" (production) or "test" (sandbox org)
SALESFORCE_API_VERSION = env.str("SALESFORCE_API_VERSION", default="59.0")
# Our external-id fields in the org (Text, External ID, Unique): the Lead's and the Task's.
SALESFORCE_LEAD_ID_FIELD = env.str("SALESFORCE_LEAD_ID_FIELD", default="Demo_Portal_Id__c")
SALESFORCE_TASK_ID_FIELD = env.str("SALESFORCE_TASK_ID_FIELD", default="Demo_Portal_Activity_Id__c")
# The Lead's fields laid over the defaults (docs/crm.md, "Salesforce", "Mapping"): {"Salesforce field": a source, or
# None to leave a default field out}, e.g. {"Demo_Score__c": "total_score", "Country": None, "CountryCode": "country"}.
# Set in code (a settings module of the deployment), not in the environment; None keeps the defaults.
SALESFORCE_FIELD_MAP: dict[str, str | None] | None = None
# Slow down when the org's rolling 24-hour API allowance (Sforce-Limit-Info) is this far used; stop at 95 %.
SALESFORCE_API_USAGE_SLOWDOWN = env.float("SALESFORCE_API_USAGE_SLOWDOWN", default=0.8)
HUBSPOT_ACCESS_TOKEN = env.str("HUBSPOT_ACCESS_TOKEN", default="")  # a private app's token
HUBSPOT_API_BASE = env.str("HUBSPOT_API_BASE", default="https://api.hubapi.com").rstrip("/")
CRM_SYNC_TIMEOUT = env.float("CRM_SYNC_TIMEOUT", default=10.0)  # seconds, per CRM call
# A sync that keeps failing is dead after this many attempts and this long since its first: then only a
# person retries it (the admin's "Retry now").
CRM_SYNC_MAX_ATTEMPTS = env.int("CRM_SYNC_MAX_ATTEMPTS", default=12)
CRM_SYNC_DEAD_AFTER_HOURS = env.int("CRM_SYNC_DEAD_AFTER_HOURS", default=24)
# MARKETING'S DASHBOARDS (docs/dashboards.md): their days are dates in this zone. After changing it, run
# `manage.py dashboards_rebuild`.
DASHBOARD_TIME_ZONE = env.str("DASHBOARD_TIME_ZONE", default="UTC")
MAX_ACTIVE_SANDBOXES = env.int("MAX_ACTIVE_SANDBOXES", default=100)
SANDBOX_REQUESTS_PER_MINUTE = env.int("SANDBOX_REQUESTS_PER_MINUTE", default=1000)
SANDBOX_POOL_SIZE = env.int("SANDBOX_POOL_SIZE", default=2)  # warm sandboxes kept per industry
SANDBOX_AUTO_RESET_HOURS = env.int("SANDBOX_AUTO_RESET_HOURS", default=24)
SANDBOX_RETENTION_DAYS = env.int("SANDBOX_RETENTION_DAYS", default=7)  # records kept after a sandbox ends
SANDBOX_STORAGE_WARNING_BYTES = env.int("SANDBOX_STORAGE_WARNING_BYTES", default=10 * 1024**3)
CELERY_BEAT_SCHEDULE = {
    "sandbox-expiry-sweep": {"task": "sandboxes.tasks.sandboxes_expire", "schedule": 60.0},
    "sandbox-auto-reset": {"task": "sandboxes.tasks.sandboxes_auto_reset", "schedule": 60.0},
    "sandbox-pool-refill": {"task": "sandboxes.tasks.pools_refill", "schedule": 60.0},
    "sandbox-recovery-sweep": {"task": "sandboxes.tasks.sandboxes_recover", "schedule": 60.0},
    "sandbox-purge": {"task": "sandboxes.tasks.sandboxes_purge", "schedule": 3600.0},
    "sandbox-last-access-flush": {"task": "sandboxes.tasks.last_access_flush", "schedule": 60.0},
    "demos-abandoned": {"task": "analytics.tasks.demos_abandoned", "schedule": 300.0},
    "crm-sync-sweep": {"task": "crm.tasks.syncs_sweep_task", "schedule": 30.0},
    "dashboard-rollups": {"task": "analytics.tasks.rollups_refresh", "schedule": 60.0},
}
# Work that gets sandboxes ready ahead of time (pool clones, KPIs) runs on its own queue and worker, one task
# at a time: at most one core of background work, so requests keep the others.
CELERY_TASK_ROUTES = {
    "sandboxes.tasks.pool_refill_task": {"queue": "warmup"},
    "simulation.tasks.kpis_warm": {"queue": "warmup"},
    # CRM deliveries wait on other companies' servers: a queue of their own, so a slow CRM never holds up
    # sandbox work (the ordinary worker takes both; production may give it workers of its own).
    "crm.tasks.syncs_deliver_task": {"queue": "crm"},
}

# AUTH
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Django's default first (it hashes every password people choose); the second only for generated ones.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "demoportal.core.hashers.GeneratedPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:landing"
# allauth's hooks: mail subjects, sender and branding, and where a prospect lands once their address is verified
# (demo selection: signed in already, or after signing in when the link was opened in another browser).
ACCOUNT_ADAPTER = "demoportal.core.account_adapter.AccountAdapter"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True  # only in the browser session that signed up (allauth checks it)
ACCOUNT_EMAIL_CONFIRMATION_AUTHENTICATED_REDIRECT_URL = "portal:demo-new"
ACCOUNT_SIGNUP_REDIRECT_URL = "portal:demo-new"  # signed in by the link of the browser they signed up in, or LinkedIn
ACCOUNT_EMAIL_SUBJECT_PREFIX = MAIL_SUBJECT_PREFIX
ACCOUNT_USER_DISPLAY = "demoportal.core.account_adapter.user_display"  # "Jane Doe", not the address
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SIGNUP_FORM_CLASS = "demoportal.portal.forms.SignupForm"  # the prospect's name, profile and optional consent
# allauth's forms refusing a field sent twice, as every form of ours does (demoportal/core/webforms.py).
ACCOUNT_FORMS = {
    "login": "demoportal.core.account_forms.LoginForm",
    "add_email": "demoportal.core.account_forms.AddEmailForm",
    "change_password": "demoportal.core.account_forms.ChangePasswordForm",
    "set_password": "demoportal.core.account_forms.SetPasswordForm",
    "reset_password": "demoportal.core.account_forms.ResetPasswordForm",
    "reset_password_from_key": "demoportal.core.account_forms.ResetPasswordKeyForm",
    "reauthenticate": "demoportal.core.account_forms.ReauthenticateForm",
}
# Nobody learns from the portal whether an address has an account (docs/architecture.md): sign-up with a
# registered address shows the usual "verify your e-mail" page and mails the owner that they already have
# an account; a password reset always says a mail was sent (to an unknown address: "no account here");
# sign-in has one message for a wrong password and an unknown address. allauth's per-address limits on
# sign-up, sign-in and reset (TRUSTED_PROXIES) keep mail-bombing through these slow.
ACCOUNT_PREVENT_ENUMERATION = True
# The version of the consent wording (CONTACT_CONSENT_TEXT in demoportal/core/forms.py); stored with each consent.
# Change both together.
CONTACT_CONSENT_VERSION = "2026-11"

# SOCIAL SIGN-IN
# "Sign in with LinkedIn" appears only when both are set (docs/operations.md: registering the app).
LINKEDIN_CLIENT_ID = env.str("LINKEDIN_CLIENT_ID", default="")
LINKEDIN_CLIENT_SECRET = env.str("LINKEDIN_CLIENT_SECRET", default="")
SOCIALACCOUNT_PROVIDERS = socialaccount_providers(
    linkedin_client_id=LINKEDIN_CLIENT_ID, linkedin_client_secret=LINKEDIN_CLIENT_SECRET
)
# Never skip the sign-up form: allauth's social sign-up form extends ACCOUNT_SIGNUP_FORM_CLASS, so a
# LinkedIn newcomer is asked for their name (filled in from LinkedIn), company, job title, role, country and
# the optional consent like everyone else.
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_STORE_TOKENS = False  # we read the profile once; no LinkedIn API calls later
# Verification stays mandatory (ACCOUNT_EMAIL_VERIFICATION): an address LinkedIn reports verified needs no
# confirmation mail, any other does. A LinkedIn login never takes over an existing account with the same
# address (SOCIALACCOUNT_EMAIL_AUTHENTICATION stays off, its default).

# Demo logins that `manage.py bootstrap` creates; the password is generated when not given.
DEMO_ADMIN_EMAIL = env.str("DEMO_ADMIN_EMAIL", default="admin@example.com")
DEMO_ADMIN_PASSWORD = env.str("DEMO_ADMIN_PASSWORD", default="")
DEMO_STAFF_USERS = env.bool("DEMO_STAFF_USERS", default=False)
# Sample prospects and their activity for the leads and dashboards (manage.py sample_activity), made by bootstrap
# when there is none: how many. 0 (production's default): none. Removed with `manage.py sample_activity --remove`.
DEMO_SAMPLE_ACTIVITY = env.int("DEMO_SAMPLE_ACTIVITY", default=0)
DEMO_SANDBOX = env.bool("DEMO_SANDBOX", default=False)

# EMAIL
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
# With the file backend (local settings) mail lands here; /dev/mailbox/ shows it, links clickable.
# The mailbox shows anyone every mail sent: only local settings may route it (demoportal/urls.py).
DEV_MAILBOX = False
EMAIL_FILE_PATH = Path(env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / ".data" / "mail")))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = sender_with_name(env.str("DEFAULT_FROM_EMAIL", default="demo@localhost"), PORTAL_NAME)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_SUBJECT_PREFIX = f"[{PORTAL_NAME}] "  # Django's, for the error mails to ADMINS

# REST FRAMEWORK
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "demoportal.core.openapi.ErrorDocumentingAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sandboxes.authentication.SandboxTokenAuthentication",  # Bearer: one sandbox's own token
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # A sandbox token is refused everywhere but the endpoints of its own sandbox (sandboxes.authentication).
    "DEFAULT_PERMISSION_CLASSES": [
        "sandboxes.authentication.RefusesSandboxTokens",
        "rest_framework.permissions.IsAuthenticated",
    ],
    "EXCEPTION_HANDLER": "demoportal.core.exceptions.api_exception_handler",
    # Bodies too deep or holding NUL or lone surrogates are refused with 400 (demoportal/core/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "demoportal.core.parsers.SafeJSONParser",
        "demoportal.core.parsers.SafeFormParser",
        "demoportal.core.parsers.SafeMultiPartParser",
    ],
    # POST /api/v1/events, per user; a page sends a few events a minute, a runaway script gets 429.
    "DEFAULT_THROTTLE_RATES": {"events": env.str("EVENTS_RATE", default="300/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Demo Portal API",
    "DESCRIPTION": "Sandboxes for ThermalCommand, BoilerOptimizer, WasteHeatRecovery and EmissionsGuardian.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Each host serves the schema of its own URL conf (demoportal/core/openapi.py); Swagger UI from static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# STATIC
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end libraries come from npm (package.json, installed by `make install`) and are served from static/vendor/.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/uplot", BASE_DIR / "node_modules" / "uplot" / "dist"),
    ("vendor/shepherd", BASE_DIR / "node_modules" / "shepherd.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# I18N
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# LOGGING
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
