import email
import email.policy
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from demoportal import catalogue


def landing(request: HttpRequest) -> HttpResponse:
    scenarios = sorted(catalogue.scenarios().values(), key=lambda s: s.industry)
    return render(request, "portal/landing.html", {"products": catalogue.products(), "scenarios": scenarios})


def dev_mailbox(request: HttpRequest) -> HttpResponse:
    """Development only: the mail the file backend wrote (newest first), with clickable links, so a
    newcomer can verify an account with no SMTP server. 404 unless DEBUG and the file backend are on."""
    if not settings.DEBUG or settings.EMAIL_BACKEND != "django.core.mail.backends.filebased.EmailBackend":
        raise Http404("The development mailbox is off.")
    return render(request, "portal/mailbox.html", {"messages": mailbox_read(Path(settings.EMAIL_FILE_PATH))})


def mailbox_read(folder: Path) -> list[dict[str, str]]:
    """The messages in the file backend's folder, newest first: {subject, to, date, body}."""
    found = []
    for path in sorted(folder.glob("*.log"), reverse=True) if folder.is_dir() else []:
        # The file backend writes each message followed by a line of 79 dashes.
        for raw in reversed(path.read_bytes().split(b"\n" + b"-" * 79 + b"\n")):
            if not raw.strip():
                continue
            message = email.message_from_bytes(raw, policy=email.policy.default)
            body = message.get_body(preferencelist=("plain", "html"))
            found.append(
                {
                    "subject": str(message["subject"] or ""),
                    "to": str(message["to"] or ""),
                    "date": str(message["date"] or ""),
                    "body": body.get_content() if body is not None else "",
                }
            )
    return found
