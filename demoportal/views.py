from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from demoportal import catalogue


def landing(request: HttpRequest) -> HttpResponse:
    scenarios = sorted(catalogue.scenarios().values(), key=lambda s: s.industry)
    return render(request, "portal/landing.html", {"products": catalogue.products(), "scenarios": scenarios})
