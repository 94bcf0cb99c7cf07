"""A sandbox's own API token: issued once (only its hash is stored), looked up, and whether it is live."""

from __future__ import annotations

import hashlib
import secrets

from sandboxes.models import Sandbox

# A token stays valid while its sandbox lives: during a reset it still authenticates, and the endpoint
# answers 409 (docs/api.md); once the sandbox has ended, or for an unknown token, 401.
TOKEN_LIVE_STATUSES = (Sandbox.Status.READY, Sandbox.Status.RESETTING)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def access_token_issue(*, sandbox: Sandbox) -> str:
    """A new API token for ``sandbox``; only its hash is stored, so the caller shows it once."""
    token = secrets.token_urlsafe(32)
    Sandbox.objects.filter(pk=sandbox.pk).update(access_token_hash=token_hash(token))
    sandbox.access_token_hash = token_hash(token)
    return token


def sandbox_for_token(token: str) -> Sandbox | None:
    sandbox: Sandbox | None = (
        Sandbox.objects.filter(kind=Sandbox.Kind.DEMO, access_token_hash=token_hash(token))
        .select_related("owner")
        .first()
    )
    return sandbox


def token_is_for(token: str, sandbox: Sandbox) -> bool:
    """Whether ``token`` is ``sandbox``'s own, live token (websockets' ``?token=``: the same rule as Bearer)."""
    found = sandbox_for_token(token)
    return found is not None and found.pk == sandbox.pk and found.status in TOKEN_LIVE_STATUSES
