"""The API's answer where no route matches, for both hosts' URL confs."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.views import APIView


class UnknownApiPath(APIView):
    """Whatever under /api/v1/ no route matches (``/api/v1/sandboxes/-1``, a typo): a 404 in the API's JSON
    error shape rather than the HTML page, after authentication like any API answer (401 without
    credentials). It has no method handlers, so the OpenAPI schemas leave it out."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound("No such API endpoint.")
