"""Password hashing for machine-generated passwords.

A new prospect's temporary password is 96 random bits. Its strength comes from that entropy, not from
key stretching (the reason the default hasher runs a million PBKDF2 rounds, half a second here, is to
slow down guessing of passwords people choose). So it is hashed with few rounds and the prospect does
not wait half a second for their sandbox; at the first sign-in Django re-hashes it with the default
hasher (``must_update``), as it does for any hash that is not the preferred one.
"""

from __future__ import annotations

import secrets

from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

from demoportal.core.models import User

TEMPORARY_PASSWORD_BYTES = 12  # 96 bits, 16 URL-safe characters


class GeneratedPasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 with 10,000 rounds, for generated passwords of at least 96 random bits only."""

    algorithm = "pbkdf2_sha256_generated"
    iterations = 10_000


def temporary_password_set(user: User) -> str:
    """Give ``user`` a new random password (not saved here) and return it, to be shown once."""
    password = secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)
    user.password = make_password(password, hasher=GeneratedPasswordHasher.algorithm)
    return password
