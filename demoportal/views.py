from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from demoportal.catalogue import INDUSTRIES, PRODUCTS


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/landing.html", {"products": PRODUCTS, "industries": INDUSTRIES})
