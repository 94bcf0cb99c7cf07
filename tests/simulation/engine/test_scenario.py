"""Scenario files load all-or-nothing; every problem names its file and path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from simulation.engine.scenario import ScenarioError, load_catalogue
from tests.simulation.engine.conftest import FIXTURES


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    return tmp_path / "fixtures"


def edit(catalogue: Path, name: str, change: object) -> None:
    path = catalogue / "scenarios" / f"{name}.json"
    data = json.loads(path.read_text())
    change(data)  # type: ignore[operator]
    path.write_text(json.dumps(data))


def problems(catalogue: Path) -> list[str]:
    with pytest.raises(ScenarioError) as error:
        load_catalogue(catalogue)
    return error.value.problems


def test_the_shipped_catalogue_loads(catalogue: Path) -> None:
    scenarios, rest = load_catalogue(catalogue)

    assert sorted(scenarios) == ["cement", "chemicals", "food_beverage", "oil_gas", "steel"]
    assert scenarios["oil_gas"].name == "Demo Refinery Complex"
    assert len(rest["roles"]["roles"]) == 4


def test_unknown_asset_type_is_named_with_file_and_path(catalogue: Path) -> None:
    edit(catalogue, "cement", lambda d: d["assets"][1].update(type="blast_furnace"))

    assert any(
        p.startswith("cement.json: assets[1].type: unknown asset type 'blast_furnace'") for p in problems(catalogue)
    )


def test_a_feature_that_is_not_in_its_product_is_refused(catalogue: Path) -> None:
    edit(catalogue, "steel", lambda d: d["stories"][0]["features"].append("thermalcommand.teleportation"))

    assert (
        "steel.json: stories[0].features: 'thermalcommand.teleportation' is not a feature of its product"
        in "\n".join(problems(catalogue))
    )


def test_every_problem_is_reported_not_just_the_first(catalogue: Path) -> None:
    def break_several(data: dict) -> None:  # type: ignore[type-arg]
        data["anomaly_rate"] = 0.9
        data["incidents"][0]["at"] = "yesterday"
        data["incidents"][0]["asset"] = "X-999"
        del data["sources"]

    edit(catalogue, "oil_gas", break_several)
    found = problems(catalogue)

    assert "oil_gas.json: anomaly_rate: must be between 0 and 0.2, got 0.9" in found
    assert "oil_gas.json: incidents[0].at: must look like 'BASE_TS - 3d' (m, h or d), got 'yesterday'" in found
    assert "oil_gas.json: incidents[0].asset: no asset is tagged 'X-999'" in found
    assert "oil_gas.json: sources: is missing" in found


def test_a_json_syntax_error_names_line_and_column(catalogue: Path) -> None:
    (catalogue / "scenarios" / "food_beverage.json").write_text('{"key": "food_beverage",\n "name": }')

    assert problems(catalogue) == ["food_beverage.json: line 2 column 10: Expecting value"]


def test_one_broken_file_means_nothing_loads(catalogue: Path) -> None:
    edit(catalogue, "chemicals", lambda d: d["assets"][0]["capacity"].update(min=500, max=100))

    with pytest.raises(ScenarioError, match=r"chemicals.json: assets\[0\].capacity: max 100 is below min 500"):
        load_catalogue(catalogue)


def test_wrong_capacity_unit_for_the_asset_type(catalogue: Path) -> None:
    edit(catalogue, "oil_gas", lambda d: d["assets"][0]["capacity"].update(unit="kW"))

    assert "oil_gas.json: assets[0].capacity.unit: must be 'MMBtu/h' for fired_heater" in problems(catalogue)


def test_key_must_match_the_file_name(catalogue: Path) -> None:
    edit(catalogue, "cement", lambda d: d.update(key="concrete"))

    assert "cement.json: key: must equal the file name, 'cement'" in problems(catalogue)
