from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from demoportal.core.models import User


@pytest.fixture
def staff(db: None) -> APIClient:
    """An API client signed in as a staff user (an account executive)."""
    client = APIClient(HTTP_HOST="localhost")
    client.force_authenticate(User.objects.create_user(email="ae@vendor.example", password="pw", is_staff=True))
    return client
