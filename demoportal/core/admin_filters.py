"""The catalogue's keys as the admin shows them: (key, name) choices, and list filters that read the names
("By industry: Oil & gas", not "oil_gas")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from demoportal.core import catalogue


def industry_choices() -> list[tuple[str, str]]:
    return sorted(((key, s.industry) for key, s in catalogue.scenarios().items()), key=lambda pair: pair[1])


def product_choices() -> list[tuple[str, str]]:
    return [(item["key"], item["name"]) for item in catalogue.products()]


def role_choices() -> list[tuple[str, str]]:
    return [(item["key"], item["name"]) for item in catalogue.roles()]


Choices = Callable[[], list[tuple[str, str]]]


def catalogue_filter(field: str, title: str, choices: Choices) -> type[admin.SimpleListFilter]:
    """A list filter on ``field`` (a catalogue key stored as text) offering the catalogue's names."""

    class CatalogueFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            return choices()

        def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
            value = self.value()
            return queryset.filter(**{field: value}) if value else queryset

    CatalogueFilter.title = title
    CatalogueFilter.__name__ = f"{field.title().replace('_', '')}CatalogueFilter"
    return CatalogueFilter


IndustryFilter = catalogue_filter("industry", "industry", industry_choices)
ProductFilter = catalogue_filter("product", "product", product_choices)
RoleFilter = catalogue_filter("role", "role", role_choices)
