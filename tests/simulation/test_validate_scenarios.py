"""`manage.py validate_scenarios`: a clear verdict, and a failure that names file, path and problem."""

from __future__ import annotations

import io
import json
import re
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
    assert "16 tours valid; their estimates, derived from their steps on each plant: " in out.getvalue()
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


def test_a_products_own_tour_minutes_are_refused(fixtures: Path) -> None:
    """A tour's length is derived from its steps; a figure written by hand beside them is refused."""
    path = fixtures / "products.json"
    data = json.loads(path.read_text())
    data["products"][0]["tour_minutes"] = {"executive": 6, "engineer": 18, "operator": 10, "consultant": 12}
    path.write_text(json.dumps(data))

    with pytest.raises(CommandError) as error:
        call_command("validate_scenarios", "--strict", "--fixtures", str(fixtures), stdout=io.StringIO())

    assert "products.json: products[0].tour_minutes: remove it; a tour's length is derived from its steps" in str(
        error.value
    )


@pytest.mark.parametrize(
    ("pace", "problem"),
    [
        (None, "products.json: tour_pace: must state card_seconds and hands_on_seconds"),
        ({"card_seconds": 40}, "tour_pace.hands_on_seconds: must be whole seconds from 10 to 1800, got None"),
        ({"card_seconds": 0, "hands_on_seconds": 90}, "tour_pace.card_seconds: must be whole seconds from 5 to 300"),
        ({"card_seconds": "slow", "hands_on_seconds": 90}, "got 'slow'"),
        ({"card_seconds": 40, "hands_on_seconds": 90.5}, "got 90.5"),
        ({"card_seconds": 40, "hands_on_seconds": 90, "lunch": 3600}, "tour_pace: 'lunch' is not a pace"),
    ],
)
def test_the_pace_tours_are_estimated_at_is_stated_and_sane(fixtures: Path, pace: object, problem: str) -> None:
    path = fixtures / "products.json"
    data = json.loads(path.read_text())
    data["tour_pace"] = pace
    path.write_text(json.dumps(data))

    with pytest.raises(CommandError) as error:
        call_command("validate_scenarios", "--fixtures", str(fixtures), stdout=io.StringIO())

    assert problem in str(error.value)


def test_a_missing_broken_or_stray_tour_is_named(fixtures: Path) -> None:
    tours = fixtures / "tours"
    (tours / "boileroptimizer.operator.json").unlink()
    broken = json.loads((tours / "thermalcommand.engineer.json").read_text())
    broken["steps"][1]["page"] = "elsewhere"
    (tours / "thermalcommand.engineer.json").write_text(json.dumps(broken))
    (tours / "thermalcommand.ceo.json").write_text(json.dumps(broken))

    with pytest.raises(CommandError) as error:
        call_command("validate_scenarios", "--fixtures", str(fixtures), stdout=io.StringIO())

    message = str(error.value)
    assert "tours/boileroptimizer.operator.json: (file): not found" in message
    assert "tours/thermalcommand.engineer.json, step 2: 'page' must be one of home, asset" in message
    assert "tours/thermalcommand.ceo.json: (file): no product × role of that name" in message


def test_a_tour_too_long_at_the_stated_pace_is_refused(fixtures: Path) -> None:
    path = fixtures / "products.json"
    data = json.loads(path.read_text())
    data["tour_pace"] = {"card_seconds": 300, "hands_on_seconds": 1800}  # the slowest reader the file may state
    path.write_text(json.dumps(data))

    with pytest.raises(CommandError) as error:
        call_command("validate_scenarios", "--fixtures", str(fixtures), stdout=io.StringIO())

    assert re.search(
        r"tours/thermalcommand\.engineer\.json: takes \d+ min on oil_gas's plant at this pace", str(error.value)
    )
