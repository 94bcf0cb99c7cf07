from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def sandbox_home(request: HttpRequest) -> HttpResponse:
    return render(request, "sandbox/home.html", {"sandbox": request.tenant})  # type: ignore[attr-defined]
