"""The products' areas on a sandbox's host (simulation/selectors/products.py): each product's landing with its
features on this plant (and those the plant lacks, with the reason), each feature's screen with its assets'
values, the other products "also available", and the catalogue's mapping of the specification's feature names
onto the product features, validated with the scenarios."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from analytics.models import Event
from demoportal.core import catalogue
from demoportal.core.catalogue import FIXTURES_DIR
from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_create
from simulation.engine.assets import ASSET_TYPES
from simulation.engine.kpis import story_value
from simulation.engine.scenario import ScenarioError, feature_absence, load_catalogue
from simulation.models import Asset, InjectedAnomaly, Plant, Sensor
from simulation.selectors.plant import plant_layout, plant_overlays, plant_sim_now
from simulation.selectors.products import carbon_screen, hour_clock, load_screen

pytestmark = pytest.mark.django_db
PRODUCTS = [product["key"] for product in catalogue.products()]


def host(sandbox: Sandbox) -> str:
    return f"{sandbox.slug}.localhost"


@pytest.fixture(params=sorted(catalogue.scenarios()))
def plant_sandbox(request: Any, client: Client, db: None) -> Iterator[Sandbox]:
    """A sandbox of each industry, made for EmissionsGuardian, its owner signed in on its host."""
    industry = request.param
    owner = User.objects.create_user(email=f"owner-{industry}@plant.example", password="pw")
    sandbox = sandbox_create(
        slug=f"areas-{industry.replace('_', '-')}",
        name=f"Areas {industry}",
        scenario=industry,
        owner=owner,
        product="emissionsguardian",
    )
    client.force_login(owner)
    yield sandbox
    connection.set_schema_to_public()  # type: ignore[attr-defined]  # a request left the sandbox's on
    sandbox.delete(force_drop=True)


def get(client: Client, sandbox: Sandbox, path: str) -> Any:
    return client.get(path, HTTP_HOST=host(sandbox))


def test_every_product_and_every_feature_it_has_opens_on_every_plant(client: Client, plant_sandbox: Sandbox) -> None:
    scenario = catalogue.scenarios()[plant_sandbox.industry]
    with schema_context(plant_sandbox.schema_name):
        types = set(Asset.objects.values_list("type", flat=True))
    assert types == set(scenario.asset_types)
    for product in catalogue.products():
        landing = get(client, plant_sandbox, f"/products/{product['key']}/")
        assert landing.status_code == 200, product["key"]
        html = landing.content.decode()
        assert f"<h1>{product['name']}</h1>" in html
        assert ("Your product" in html) == (product["key"] == "emissionsguardian")
        for feature in product["features"]:
            path = f"/products/{product['key']}/{feature['key'].replace('_', '-')}/"
            screen = get(client, plant_sandbox, path)
            absence = feature_absence(feature, scenario.asset_types)
            if absence is None:
                assert f'href="{path}"' in html, path  # the landing links it
                assert screen.status_code == 200, path
                assert_screen_shows_the_plants_values(screen.content.decode(), plant_sandbox, feature)
            else:
                assert absence in html  # the landing says why it is not there
                assert screen.status_code == 404, path
                assert absence in screen.content.decode()


def assert_screen_shows_the_plants_values(html: str, sandbox: Sandbox, feature: dict[str, Any]) -> None:
    """Every sensor of the feature's kinds on this plant is on the screen, bound to the live values."""
    with schema_context(sandbox.schema_name):
        ids = set(Sensor.objects.filter(kind__in=feature["sensors"]).values_list("id", flat=True))
    shown = {int(found) for found in re.findall(r'data-live-sensor="(\d+)"', html)}
    assert shown == ids, feature["key"]
    assert ids, f"{feature['key']} shows nothing on this plant"


def test_the_other_products_are_also_available_and_each_area_records_its_view(
    client: Client, plant_sandbox: Sandbox
) -> None:
    html = get(client, plant_sandbox, "/products/emissionsguardian/").content.decode()

    also = html[html.index('data-feature="also_available"') :]
    links = re.findall(r'<a href="/products/([a-z]+)/">', also)
    assert sorted(links) == sorted(set(PRODUCTS) - {"emissionsguardian"})
    assert 'data-feature="emissionsguardian"' in html  # feature_viewed when seen (static/js/sandbox.js)
    other = get(client, plant_sandbox, "/products/thermalcommand/").content.decode()
    assert "Also available" in other
    assert "· your product" in other  # the way back


def test_the_navigation_leads_to_the_chosen_product_from_every_page(client: Client, plant_sandbox: Sandbox) -> None:
    for path in ("/", "/products/boileroptimizer/"):
        html = get(client, plant_sandbox, path).content.decode()
        assert '<a href="/products/emissionsguardian/">EmissionsGuardian</a>' in html, path
    # The plant's own pages are shared: they sit in the chosen product's area, the plant overview current.
    with schema_context(plant_sandbox.schema_name):
        tag = Asset.objects.order_by("index").values_list("tag", flat=True).first()
    for path in ("/", f"/assets/{tag}/"):
        html = get(client, plant_sandbox, path).content.decode()
        nav = html[html.index('<nav class="product-nav" aria-label="EmissionsGuardian">') :]
        nav = nav[: nav.index("</nav>")]
        assert '<a href="/" aria-current="page">Plant overview</a>' in nav, path
        assert 'href="/products/emissionsguardian/co2-accounting/"' in nav, path


@pytest.fixture
def refinery_owner(client: Client, sandbox: Sandbox) -> User:
    """The session's refinery sandbox, owned (for this test) by a prospect signed in on its host."""
    owner = User.objects.create_user(email="owner@refinery.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=owner)
    client.force_login(owner)
    return owner


def test_an_unknown_product_or_feature_is_not_found(client: Client, sandbox: Sandbox, refinery_owner: User) -> None:
    assert get(client, sandbox, "/products/nosuchproduct/").status_code == 404
    assert get(client, sandbox, "/products/thermalcommand/nosuchfeature/").status_code == 404
    # Another product's feature under the wrong product is no feature of it.
    assert get(client, sandbox, "/products/thermalcommand/co2-accounting/").status_code == 404


def test_the_product_pages_are_for_the_sandboxs_members_only(client: Client, sandbox: Sandbox) -> None:
    stranger = User.objects.create_user(email="stranger@elsewhere.example", password="pw")
    client.force_login(stranger)

    response = get(client, sandbox, "/products/thermalcommand/")

    assert response.status_code in (302, 403, 404)
    assert b"<h1>ThermalCommand</h1>" not in response.content


# --- The mapping, validated ------------------------------------------------------------------------------


def test_every_name_the_scenarios_specify_is_served_once_by_a_feature_the_plant_has() -> None:
    served: dict[str, list[str]] = {}
    for product in catalogue.products():
        for feature in product["features"]:
            for name in feature["serves"]:
                served.setdefault(name, []).append(f"{product['key']}.{feature['key']}")
    specified = [name for scenario in catalogue.scenarios().values() for name in scenario.specified_features]

    assert len(specified) == 31  # the specification's scenarios name 31 features
    assert sorted(served) == sorted(specified)
    assert all(len(owners) == 1 for owners in served.values())


def catalogue_copy(tmp_path: Path, change: Any) -> Path:
    """The fixtures copied to ``tmp_path``, products.json and the scenarios changed by ``change(products,
    scenarios)``."""
    (tmp_path / "scenarios").mkdir()
    products = json.loads((FIXTURES_DIR / "products.json").read_text())
    scenarios = {path.stem: json.loads(path.read_text()) for path in (FIXTURES_DIR / "scenarios").glob("*.json")}
    change(products, scenarios)
    (tmp_path / "products.json").write_text(json.dumps(products))
    (tmp_path / "roles.json").write_text((FIXTURES_DIR / "roles.json").read_text())
    shutil.copytree(FIXTURES_DIR / "tours", tmp_path / "tours")
    for key, data in scenarios.items():
        (tmp_path / "scenarios" / f"{key}.json").write_text(json.dumps(data))
    return tmp_path


def feature_of(products: dict[str, Any], product: str, key: str) -> dict[str, Any]:
    found = next(p for p in products["products"] if p["key"] == product)
    return next(f for f in found["features"] if f["key"] == key)


def test_the_catalogue_as_it_is_loads(tmp_path: Path) -> None:
    scenarios, _ = load_catalogue(catalogue_copy(tmp_path, lambda products, scenarios: None))
    assert scenarios["cement"].specified_features[0] == "kiln_monitoring"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (  # a name served twice
            lambda products, scenarios: feature_of(products, "thermalcommand", "heat_balance")["serves"].append(
                "o2_trim"
            ),
            "oil_gas.json: specified_features: 'o2_trim': must be served by exactly one product feature, is by"
            " thermalcommand.excess_air_trim, thermalcommand.heat_balance",
        ),
        (  # a name served by none
            lambda products, scenarios: scenarios["steel"]["specified_features"].append("teleportation"),
            "steel.json: specified_features: 'teleportation': must be served by exactly one product feature, is by"
            " none",
        ),
        (  # served by a feature this plant cannot have
            lambda products, scenarios: scenarios["cement"]["specified_features"].append("trap_monitoring"),
            "cement.json: specified_features: 'trap_monitoring': served by boileroptimizer.steam_trap_monitoring,"
            " but Steam-trap monitoring works on a steam trap, and this plant has none.",
        ),
        (  # a name served that no scenario specifies
            lambda products, scenarios: feature_of(products, "wasteheatrecovery", "exchanger_fouling")["serves"].append(
                "fouling_watch"
            ),
            "products.json: serves 'fouling_watch', which no scenario specifies (specified_features)",
        ),
        (  # an asset type the engine does not know
            lambda products, scenarios: feature_of(products, "boileroptimizer", "combustion_tuning")["needs"].append(
                "volcano"
            ),
            "products.json: products[1].features[0].needs: unknown asset type 'volcano'",
        ),
        (  # a sensor kind no asset has
            lambda products, scenarios: feature_of(products, "emissionsguardian", "co2_accounting")["sensors"].append(
                "mood"
            ),
            "products.json: products[3].features[0].sensors: unknown sensor kind 'mood'",
        ),
    ],
)
def test_a_wrong_mapping_is_refused_naming_the_problem(tmp_path: Path, change: Any, problem: str) -> None:
    with pytest.raises(ScenarioError) as refused:
        load_catalogue(catalogue_copy(tmp_path, change))

    assert problem in refused.value.problems


def test_an_absent_feature_names_the_asset_types_it_works_on() -> None:
    feature = {"name": "Excess-air trim", "needs": ["fired_heater", "boiler"]}

    assert feature_absence(feature, frozenset({"boiler"})) is None
    assert feature_absence({**feature, "needs": []}, frozenset()) is None
    assert feature_absence(copy.deepcopy(feature), frozenset({"cement_kiln"})) == (
        f"Excess-air trim works on a {ASSET_TYPES['fired_heater'].name.lower()} or boiler, and this plant has none."
    )


# --- EmissionsGuardian's CO2 accounting ---------------------------------------------------------------------


def test_the_co2_account_shows_each_month_and_source_and_exports_the_same_figures(
    client: Client, plant_sandbox: Sandbox
) -> None:
    path = "/products/emissionsguardian/co2-accounting/"
    html = get(client, plant_sandbox, path).content.decode()
    cement = plant_sandbox.industry == "cement"

    assert "CO2 account, last twelve months" in html
    assert ("calcination" in html) == cement
    assert "40 CFR 98 Subpart C, Table C-1" in html
    assert f'href="{path}export.csv"' in html

    export = get(client, plant_sandbox, f"{path}export.csv")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    with schema_context(plant_sandbox.schema_name):
        meters = {s.tag for s in Sensor.objects.filter(kind__in=["firing_rate", "fuel_rate", "clinker_rate"])}
        plant = Plant.objects.get()
        account = carbon_screen(plant, 70.0)
    assert {row["inputs"] for row in rows} <= meters
    assert len({row["month"] for row in rows}) == 13
    assert sum(float(row["co2_t"]) for row in rows) == pytest.approx(account.co2_t, rel=1e-4)
    assert ({row["kind"] for row in rows} == {"combustion", "process"}) == cement
    shown_total = re.search(r'CO2, all sources</span><span class="kpi-value">([\d,]+)<', html)
    assert shown_total is not None
    assert int(shown_total.group(1).replace(",", "")) == round(account.co2_t)
    recorded = Event.objects.filter(name="report_generated", sandbox_id=plant_sandbox.pk)
    assert [event.properties for event in recorded] == [
        {"product": "emissionsguardian", "report": "co2_accounting", "format": "csv"}
    ]


def test_a_feature_without_an_export_has_none(client: Client, sandbox: Sandbox, refinery_owner: User) -> None:
    assert get(client, sandbox, "/products/emissionsguardian/nox-permit-tracking/export.csv").status_code == 404
    assert get(client, sandbox, "/products/thermalcommand/co2-accounting/export.csv").status_code == 404
    assert not Event.objects.filter(name="report_generated").exists()


def test_the_tube_watch_lists_every_pass_and_says_when_one_reaches_its_limit(
    client: Client, sandbox: Sandbox, refinery_owner: User
) -> None:
    path = "/products/thermalcommand/tmt-monitoring/"
    calm = get(client, sandbox, path).content.decode()
    with schema_context(sandbox.schema_name):
        tags = set(Sensor.objects.filter(kind__in=["tmt_a", "tmt_b"]).values_list("tag", flat=True))
        heater = Asset.objects.filter(type="fired_heater").order_by("index")[2]
    assert all(f'<span class="muted">{tag}</span>' in calm for tag in tags)
    assert f"<strong>{heater.tag} · " not in calm

    with schema_context(sandbox.schema_name):
        plant = Plant.objects.get()
        InjectedAnomaly.objects.create(
            asset=heater, type="tube_fouling", magnitude=1.0, starts_at=plant_sim_now(plant) - timedelta(days=5)
        )
    fouled = get(client, sandbox, path).content.decode()
    assert re.search(rf"<strong>{heater.tag} · tube metal temperature, pass [ab]</strong>", fouled)
    assert "reaches its 560 °C limit in" in fouled


# --- BoilerOptimizer's steam-trap survey -----------------------------------------------------------------------


@pytest.fixture
def chemicals(client: Client, db: None) -> Iterator[Sandbox]:
    yield from prospect_sandbox(client, "chemicals", "boileroptimizer")


@pytest.fixture
def food(client: Client, db: None) -> Iterator[Sandbox]:
    yield from prospect_sandbox(client, "food_beverage", "wasteheatrecovery")


def prospect_sandbox(client: Client, industry: str, product: str) -> Iterator[Sandbox]:
    """A sandbox of ``industry`` made for ``product``, its owner signed in on its host; ended afterwards."""
    owner = User.objects.create_user(email=f"owner@{industry.replace('_', '-')}.example", password="pw")
    slug = f"prospect-{industry.replace('_', '-')}"
    sandbox = sandbox_create(slug=slug, name="Prospect", scenario=industry, owner=owner, product=product)
    client.force_login(owner)
    yield sandbox
    connection.set_schema_to_public()  # type: ignore[attr-defined]  # a request left the sandbox's on
    sandbox.delete(force_drop=True)


def shown_cost(html: str) -> int:
    found = re.search(r'What it costs a year</span><span class="kpi-value">\$([\d,]+)<', html)
    assert found is not None
    return int(found.group(1).replace(",", ""))


def test_the_trap_survey_reproduces_the_storys_figure_and_prices_at_the_prospects_figures(
    client: Client, chemicals: Sandbox
) -> None:
    path = "/products/boileroptimizer/steam-trap-monitoring/"
    page = get(client, chemicals, path)
    story = next(s for s in catalogue.scenarios()["chemicals"].stories if s.key == "steam_traps")

    html = page.content.decode()
    assert page.status_code == 200
    with schema_context(chemicals.schema_name):
        plant = Plant.objects.get()
        story_figure = story_value(plant_layout(plant), hour_clock(plant), story, plant_overlays(plant))
    assert shown_cost(html) == round(story_figure)  # the story's figure on this plant, as its home shows it
    assert "150 psig, $10.00 per 1,000 lb, 8,760 h a year" in html
    failed = int(re.search(r"Traps failed open</span><span class=\"kpi-value\">(\d+) of 120<", html).group(1))  # type: ignore[union-attr]
    assert html.count('<tr class="row-bad">') == failed > 0

    half = get(client, chemicals, f"{path}?pressure_psig=150&steam_cost_per_1000_lb=5&hours_per_year=8760")
    assert half.status_code == 200
    assert shown_cost(half.content.decode()) == pytest.approx(shown_cost(html) / 2, abs=1)
    assert "the figures you entered" in half.content.decode()


def test_a_figure_out_of_range_is_refused_beside_its_field(client: Client, chemicals: Sandbox) -> None:
    path = "/products/boileroptimizer/steam-trap-monitoring/"
    calm = shown_cost(get(client, chemicals, path).content.decode())

    refused = get(client, chemicals, f"{path}?pressure_psig=5&steam_cost_per_1000_lb=abc&hours_per_year=8760")

    html = refused.content.decode()
    assert refused.status_code == 400
    assert 'id="id_pressure_psig_error"' in html
    assert "Ensure this value is greater than or equal to 15" in html
    assert 'id="id_steam_cost_per_1000_lb_error"' in html
    assert shown_cost(html) == calm  # the scenario's figures meanwhile


# --- WasteHeatRecovery's pinch analysis -----------------------------------------------------------------


def test_the_pinch_screen_reproduces_the_storys_figure_and_recomputes_at_another_dt_min(
    client: Client, chemicals: Sandbox
) -> None:
    path = "/products/wasteheatrecovery/pinch-analysis/"
    html = get(client, chemicals, path).content.decode()
    story = next(s for s in catalogue.scenarios()["chemicals"].stories if s.key == "waste_heat")

    beyond = re.search(r"Beyond today.s exchangers</span><span class=\"kpi-value\">([\d,]+)<", html)
    assert beyond is not None
    assert int(beyond.group(1).replace(",", "")) == pytest.approx(story.headline.value * 1000, rel=0.10)
    assert html.count('<polyline class="line line-') == 3  # hot and cold composites, grand composite
    assert "Targets at ΔTmin 10 K" in html

    wider = get(client, chemicals, f"{path}?dt_min_c=20")
    assert wider.status_code == 200
    assert "Targets at ΔTmin 20 K" in wider.content.decode()
    more = re.search(r"Heat recovery, at best</span><span class=\"kpi-value\">([\d,]+)<", html)
    less = re.search(r"Heat recovery, at best</span><span class=\"kpi-value\">([\d,]+)<", wider.content.decode())
    assert more is not None
    assert less is not None
    assert int(less.group(1).replace(",", "")) < int(more.group(1).replace(",", ""))

    refused = get(client, chemicals, f"{path}?dt_min_c=0")
    assert refused.status_code == 400
    assert 'id="id_dt_min_c_error"' in refused.content.decode()
    assert "Targets at ΔTmin 10 K" in refused.content.decode()  # the scenario's meanwhile


def test_a_plant_without_stream_data_says_so_instead_of_drawing_targets(client: Client, food: Sandbox) -> None:
    assert not catalogue.scenarios()["food_beverage"].streams
    html = get(client, food, "/products/wasteheatrecovery/pinch-analysis/").content.decode()
    assert "process streams (supply and target temperatures, heat-capacity flow rates) are not part" in html
    assert "<polyline" not in html


# --- EmissionsGuardian's NOx permit ------------------------------------------------------------------------------


def test_the_nox_screen_shows_the_storys_figure_and_every_unit(
    client: Client, sandbox: Sandbox, refinery_owner: User
) -> None:
    html = get(client, sandbox, "/products/emissionsguardian/nox-permit-tracking/").content.decode()
    story = next(s for s in catalogue.scenarios()["oil_gas"].stories if s.key == "nox_permit")
    with schema_context(sandbox.schema_name):
        plant = Plant.objects.get()
        figure = story_value(plant_layout(plant), hour_clock(plant), story, plant_overlays(plant))
        units = list(Asset.objects.filter(type__in=["boiler", "fired_heater"]).values_list("tag", flat=True))

    shown = re.search(r"Highest hour of the last 7 days</span><span class=\"kpi-value\">(\d+) %<", html)
    assert shown is not None
    assert int(shown.group(1)) >= round(figure)  # the boilers' highest hour, or a heater's above it
    assert '0.10</span><span class="kpi-unit">lb/MMBtu, hourly average: the site&#x27;s permit' in html
    assert all(f'<a href="/assets/{tag}/">{tag}</a>' in html for tag in units)


def test_a_plant_without_stack_analysers_says_why_it_has_no_permit_figures(
    client: Client, plant_sandbox: Sandbox
) -> None:
    html = get(client, plant_sandbox, "/products/emissionsguardian/nox-permit-tracking/").content.decode()
    if plant_sandbox.industry == "cement":
        assert "A cement kiln's NOx limit is per tonne of clinker" in html
    else:
        assert "Highest hour of the last 7 days" in html


@pytest.fixture
def cement(client: Client, db: None) -> Iterator[Sandbox]:
    yield from prospect_sandbox(client, "cement", "emissionsguardian")


def test_the_allowance_position_is_costed_at_the_prospects_price(client: Client, cement: Sandbox) -> None:
    plant_sandbox = cement
    path = "/products/emissionsguardian/co2-accounting/"
    assumed = get(client, plant_sandbox, path).content.decode()
    assert "clinker benchmark 0.693" in assumed
    assert "at €70/t (assumed)" in assumed

    cost = re.compile(r"allowances, €([\d,]+) at €(\d+)/t")
    at_70 = cost.search(assumed)
    at_140 = cost.search(get(client, plant_sandbox, f"{path}?eua_price=140").content.decode())
    assert at_70 is not None
    assert at_140 is not None
    assert int(at_140.group(1).replace(",", "")) == pytest.approx(2 * int(at_70.group(1).replace(",", "")), abs=2)

    own = get(client, plant_sandbox, f"{path}?eua_price=70").content.decode()
    assert "at €70/t" in own
    assert "(assumed)" not in own  # the prospect's own price, even when it is the assumed one

    refused = get(client, plant_sandbox, f"{path}?eua_price=0")
    assert refused.status_code == 400
    assert 'id="id_eua_price_error"' in refused.content.decode()
    assert "at €70/t (assumed)" in refused.content.decode()


# --- BoilerOptimizer's load allocation ----------------------------------------------------------------------


def test_the_load_screen_offers_the_least_fuel_split_of_the_boilers_output(
    client: Client, sandbox: Sandbox, refinery_owner: User
) -> None:
    html = get(client, sandbox, "/products/boileroptimizer/load-allocation/").content.decode()
    with schema_context(sandbox.schema_name):
        boilers = list(Asset.objects.filter(type="boiler").values_list("tag", flat=True))

    assert all(f'<a href="/assets/{tag}/">{tag}</a>' in html for tag in boilers)
    with schema_context(sandbox.schema_name):
        allocation = load_screen(Plant.objects.get()).allocation
    assert allocation is not None
    if allocation.worth_moving:
        assert "What the best split saves" in html
    else:  # the refinery's five boilers are alike: no move is worth its trouble, and the page says so
        assert "no load is worth moving" in html
        assert ">Best split <span" not in html  # no column of moves


def test_a_plant_with_one_boiler_has_no_split_to_offer(client: Client, plant_sandbox: Sandbox) -> None:
    html = get(client, plant_sandbox, "/products/boileroptimizer/load-allocation/")
    if plant_sandbox.industry == "cement":
        assert html.status_code == 404  # no boiler at all: the feature is absent, with its reason
    elif plant_sandbox.industry == "steel":
        assert "This plant has 1 boiler: there is no split to choose." in html.content.decode()
    else:
        assert "Sharing the steam among the boilers" in html.content.decode()


# --- BoilerOptimizer's economisers -------------------------------------------------------------------------------


@pytest.fixture
def food_plant(client: Client, db: None) -> Iterator[Sandbox]:
    yield from prospect_sandbox(client, "food_beverage", "boileroptimizer")


def test_the_economiser_screen_reproduces_the_storys_figures_and_prices_the_prospects(
    client: Client, food_plant: Sandbox
) -> None:
    path = "/products/boileroptimizer/economiser-tracking/"
    html = get(client, food_plant, path).content.decode()
    stories = {s.key: s for s in catalogue.scenarios()["food_beverage"].stories}
    with schema_context(food_plant.schema_name):
        plant = Plant.objects.get()
        args = (plant_layout(plant), hour_clock(plant))
        saving = story_value(*args, stories["economiser"], plant_overlays(plant))
        payback = story_value(*args, stories["economiser_payback"], plant_overlays(plant))

    worth = re.search(r"Worth</span><span class=\"kpi-value\">\$([\d,]+)<", html)
    assert worth is not None
    assert int(worth.group(1).replace(",", "")) == round(saving)
    assert f"{payback:.1f} years" in html

    warmer = get(client, food_plant, f"{path}?outlet_c=160&capex_usd=").content.decode()
    less = re.search(r"Worth</span><span class=\"kpi-value\">\$([\d,]+)<", warmer)
    assert less is not None
    assert int(less.group(1).replace(",", "")) < round(saving)
    assert "enter the installed cost below" in warmer

    refused = get(client, food_plant, f"{path}?outlet_c=90&capex_usd=300000")
    assert refused.status_code == 400
    assert 'id="id_outlet_c_error"' in refused.content.decode()
    assert f"{payback:.1f} years" in refused.content.decode()  # the story's figures meanwhile
