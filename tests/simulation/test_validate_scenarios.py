"""`manage.py validate_scenarios`: a clear verdict, and a failure that names file, path and problem."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from demoportal.core.catalogue import FIXTURES_DIR


@pytest.fixture
def fixtures(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES_DIR, tmp_path / "fixtures")
    return tmp_path / "fixtures"


def test_the_shipped_catalogue_is_valid_and_every_story_holds() -> None:
    out = io.StringIO()

    call_command("validate_scenarios", stdout=out)

    assert "5 scenarios valid; every story reproduced" in out.getvalue()
    assert out.getvalue().count("  ok") == 10


def test_a_headline_the_engine_does_not_reproduce_is_named(fixtures: Path) -> None:
    path = fixtures / "scenarios" / "oil_gas.json"
    data = json.loads(path.read_text())
    data["stories"][0]["headline"]["value"] = 2_000_000
    path.write_text(json.dumps(data))

    with pytest.raises(CommandError) as error:
        call_command("validate_scenarios", "--fixtures", str(fixtures), stdout=io.StringIO())

    message = str(error.value)
    assert "oil_gas.json: stories[0].headline: the engine computes" in message
    assert "the file claims 2,000,000 (" in message


def test_an_invalid_file_is_refused_before_anything_runs(fixtures: Path) -> None:
    (fixtures / "products.json").write_text("{")

    with pytest.raises(CommandError, match=r"scenario catalogue is invalid:\n  products.json: line 1 column 2"):
        call_command("validate_scenarios", "--fixtures", str(fixtures))


def test_strict_refuses_site_totals_smaller_than_the_modelled_assets(fixtures: Path) -> None:
    path = fixtures / "scenarios" / "cement.json"
    data = json.loads(path.read_text())
    data["annual_energy_cost_usd"] = 1_000_000
    path.write_text(json.dumps(data))

    with pytest.raises(CommandError, match=r"cement.json: annual_energy_cost_usd: modelled fuel alone costs"):
        call_command("validate_scenarios", "--strict", "--fixtures", str(fixtures), stdout=io.StringIO())


def test_strict_counts_a_kilns_calcination_co2_in_the_site_total(fixtures: Path) -> None:
    path = fixtures / "scenarios" / "cement.json"
    data = json.loads(path.read_text())
    data["co2_t_per_year"] = 1_000_000  # above the kiln's fuel CO2 (≈ 0.56 Mt), below fuel + calcination
    path.write_text(json.dumps(data))

    with pytest.raises(CommandError) as error:
        call_command("validate_scenarios", "--strict", "--fixtures", str(fixtures), stdout=io.StringIO())

    assert "cement.json: co2_t_per_year: modelled fuel and calcination emit 1,4" in str(error.value)


@pytest.mark.parametrize(
    ("minutes", "problem"),
    [
        ({"executive": 6, "engineer": 18, "operator": 10}, "products[0].tour_minutes: no figure for role 'consultant'"),
        ({"executive": 6, "engineer": 0, "operator": 10, "consultant": 12}, "tour_minutes.engineer: must be whole"),
        ({"executive": 6, "engineer": "long", "operator": 10, "consultant": 12}, "got 'long'"),
        ({"executive": 6, "engineer": 18, "operator": 10, "consultant": 12, "ceo": 3}, "'ceo' is not a role"),
        (None, "products[0].tour_minutes: must map each role"),
    ],
)
def test_every_product_states_its_tour_length_for_every_role(fixtures: Path, minutes: object, problem: str) -> None:
    path = fixtures / "products.json"
    data = json.loads(path.read_text())
    data["products"][0]["tour_minutes"] = minutes
    path.write_text(json.dumps(data))

    with pytest.raises(CommandError) as error:
        call_command("validate_scenarios", "--fixtures", str(fixtures), stdout=io.StringIO())

    assert problem in str(error.value)
