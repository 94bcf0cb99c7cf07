"""Every overlay kind against every asset type of every scenario, through the API: refused with 400 naming the
field, or accepted and then history, KPIs and a live tick compute. A row stored before the rule (an O2 trim
on a kiln) no longer breaks the sandbox's pages."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import redis
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_create
from simulation.engine.assets import ANOMALY_EVENTS, ASSET_TYPES
from simulation.live import viewer_register
from simulation.models import AppliedOptimization, Asset, InjectedAnomaly
from simulation.simulator import LiveTicker

pytestmark = pytest.mark.django_db
SCENARIOS = ["cement", "chemicals", "food_beverage", "oil_gas", "steel"]


@pytest.fixture
def staff() -> APIClient:
    client = APIClient(HTTP_HOST="localhost")
    client.force_authenticate(User.objects.create_user(email="sales@vendor.example", password="pw", is_staff=True))
    return client


def post_overlay(client: APIClient, sandbox: Sandbox, kind: str, asset_id: int) -> tuple[int, dict[str, object]]:
    if kind == "o2_setpoint":
        path, payload = "optimizations", {"kind": kind, "asset_id": asset_id, "parameters": {"o2_pct": 3.25}}
    else:
        path, payload = "anomalies", {"type": kind, "asset_id": asset_id, "duration_minutes": 600, "magnitude": 3}
    response = client.post(f"/api/v1/sandboxes/{sandbox.pk}/{path}", payload, format="json")
    return response.status_code, response.json()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_overlay_kind_on_every_asset_type_is_refused_or_computes(
    staff: APIClient, test_redis: redis.Redis, scenario: str
) -> None:
    sandbox = sandbox_create(slug=f"rules-{scenario.replace('_', '-')}", name="Rules", scenario=scenario)
    api = f"/api/v1/sandboxes/{sandbox.pk}"
    with schema_context(sandbox.schema_name):
        first_of_type = {asset.type: asset for asset in Asset.objects.order_by("-index")}
        sensors_of = {t: list(a.sensors.values_list("pk", flat=True)) for t, a in first_of_type.items()}
    viewer_register(sandbox.pk)
    for asset_type, asset in sorted(first_of_type.items()):
        for kind in [*ANOMALY_EVENTS, "o2_setpoint"]:
            status, body = post_overlay(staff, sandbox, kind, asset.pk)
            refusal = ASSET_TYPES[asset_type].overlay_refusal(kind)
            if refusal is not None:
                assert status == 400, (asset_type, kind, body)
                assert refusal[0] in body["errors"], (asset_type, kind, body)  # type: ignore[operator]
                continue
            assert status == 201, (asset_type, kind, body)
            for sensor in sensors_of[asset_type]:
                series = staff.get(f"{api}/sensors/{sensor}/series")
                assert series.status_code == 200, (asset_type, kind, sensor, series.json())
            assert staff.get(f"{api}/kpis").status_code == 200, (asset_type, kind)
            ticker = LiveTicker()
            ticker.refresh([sandbox.pk])
            assert len(ticker.values(time.time() + 600)[sandbox.pk]) > 0, (asset_type, kind)
            with schema_context(sandbox.schema_name):  # the next kind on a plant without this one
                InjectedAnomaly.objects.all().delete()
                AppliedOptimization.objects.all().delete()


def test_an_o2_trim_on_a_cement_kiln_is_400_naming_the_asset_and_nothing_is_stored(staff: APIClient) -> None:
    sandbox = sandbox_create(slug="kiln-trim", name="Kiln", scenario="cement")
    with schema_context(sandbox.schema_name):
        kiln = Asset.objects.filter(type="cement_kiln").first()
    assert kiln is not None

    status, body = post_overlay(staff, sandbox, "o2_setpoint", kiln.pk)

    assert status == 400
    assert "rotary kiln" in str(body["errors"]["asset_id"]).lower()  # type: ignore[index]
    with schema_context(sandbox.schema_name):
        assert not AppliedOptimization.objects.exists()


def owned_cement_works(client: Client, slug: str) -> tuple[Sandbox, Asset]:
    """A new cement sandbox whose owner is signed in with ``client``, and its kiln."""
    sandbox = sandbox_create(slug=slug, name="Kiln", scenario="cement")
    owner = User.objects.create_user(email="owner@cement.example", password="pw")
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=owner)
    client.force_login(owner)
    with schema_context(sandbox.schema_name):
        kiln = Asset.objects.get(type="cement_kiln")
    return sandbox, kiln


def test_a_kiln_trim_stored_before_the_rule_no_longer_breaks_the_sandbox(
    client: Client, staff: APIClient, test_redis: redis.Redis
) -> None:
    sandbox, kiln = owned_cement_works(client, "old-kiln-trim")
    with schema_context(sandbox.schema_name):
        AppliedOptimization.objects.create(
            asset=kiln,
            kind="o2_setpoint",
            parameters={"o2_pct": 3.25},
            applied_at=timezone.now() - timedelta(hours=1),
            created_by="before@the.rule",
        )
        sensor = kiln.sensors.get(kind="fuel_rate").pk
    host = f"{sandbox.slug}.localhost"

    assert client.get("/", HTTP_HOST=host).status_code == 200
    assert client.get(f"/assets/{kiln.tag}/", HTTP_HOST=host).status_code == 200
    assert client.post("/materials/report.pdf", HTTP_HOST=host).status_code == 200
    assert staff.get(f"/api/v1/sandboxes/{sandbox.pk}/kpis").status_code == 200
    assert staff.get(f"/api/v1/sandboxes/{sandbox.pk}/sensors/{sensor}/series").status_code == 200
    ticker = LiveTicker()
    ticker.refresh([sandbox.pk])
    assert str(sensor) in ticker.values(time.time())[sandbox.pk]


def test_the_kiln_page_offers_no_o2_trim_and_a_posted_one_is_400(client: Client) -> None:
    sandbox, kiln = owned_cement_works(client, "kiln-page")
    host = f"{sandbox.slug}.localhost"

    page = client.get(f"/assets/{kiln.tag}/", HTTP_HOST=host)
    posted = client.post(f"/assets/{kiln.tag}/o2-trim", {"o2_setpoint_pct": "3.25"}, HTTP_HOST=host)

    assert 'id="o2-trim"' not in page.content.decode()
    assert posted.status_code == 400
    assert "takes no O2 trim" in posted.content.decode()
    with schema_context(sandbox.schema_name):
        assert not AppliedOptimization.objects.exists()
