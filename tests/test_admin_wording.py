"""How the admin words our models: plurals in English ("sandboxes", not "sandboxs") and help texts in plain
words, naming no setting or environment variable (a salesperson does not know SANDBOX_RETENTION_DAYS)."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import models

OUR_APPS = ("demoportal", "tours", "sandboxes", "simulation", "analytics", "crm")
# A setting's or environment variable's name: upper-case words joined by underscores, e.g. SANDBOX_POOL_SIZE.
SETTING_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


def our_models() -> list[type[models.Model]]:
    return [model for model in apps.get_models() if model._meta.app_label in OUR_APPS]


def naive_plural_is_wrong(singular: str) -> bool:
    """Django's default plural adds an "s": wrong after s, x, z, ch, sh, and after a consonant and y."""
    return bool(re.search(r"(s|x|z|ch|sh|[^aeiou]y)$", singular))


@pytest.mark.parametrize("model", our_models(), ids=lambda model: model._meta.label)
def test_every_model_has_an_english_plural(model: type[models.Model]) -> None:
    singular, plural = str(model._meta.verbose_name), str(model._meta.verbose_name_plural)

    if naive_plural_is_wrong(singular):
        assert plural != f"{singular}s", f"{model._meta.label} needs Meta.verbose_name_plural"


def test_a_sandbox_is_one_of_the_sandboxes() -> None:
    from sandboxes.models import Sandbox
    from simulation.models import InjectedAnomaly

    assert Sandbox._meta.verbose_name_plural == "sandboxes"
    assert InjectedAnomaly._meta.verbose_name_plural == "injected anomalies"


@pytest.mark.parametrize("model", our_models(), ids=lambda model: model._meta.label)
def test_help_texts_name_no_setting(model: type[models.Model]) -> None:
    help_texts = {field.name: str(getattr(field, "help_text", "")) for field in model._meta.get_fields()}
    named = {name: text for name, text in help_texts.items() if SETTING_NAME.search(text)}

    assert named == {}


def test_the_check_finds_a_setting_name() -> None:
    assert SETTING_NAME.search("Purged SANDBOX_RETENTION_DAYS later.")
    assert SETTING_NAME.search("Which wording (CONTACT_CONSENT_VERSION).")
    assert not SETTING_NAME.search("Flue-gas O2, % dry; 1 is the scenario's typical size; ISO 8601.")
