"""The CRM outbox (crm/sync/outbox.py): rows written with their trigger, coalesced, claimed one lead at a time,
retried with backoff, dead after enough attempts over a day, swept back when a worker dies, waiting while a CRM
is not configured. The CRM here is a recording client that keeps the contract of crm/sync/records.py; the real
clients are tested against their fakes in test_salesforce_client.py and test_hubspot_client.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from analytics.models import Lead
from analytics.services.events import event_record
from crm.models import Crm, CrmRecord, CrmStatus, CrmSync
from crm.sync import outbox
from crm.sync.lead_records import lead_records
from crm.sync.records import (
    ApiUsage,
    CrmRefusedError,
    CrmUnavailableError,
    Delivered,
    RecordError,
    Target,
)
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from demoportal.core.services import contact_consent_record
from sandboxes.models import Sandbox

pytestmark = pytest.mark.django_db
State = CrmSync.State


@dataclass
class RecordingClient:
    """A CRM that records what it was given, answers as told, and keeps ids like a CRM would."""

    name: str = "salesforce"
    batch_size: int = 200
    calls: list[list[Target]] = field(default_factory=list)
    fail_with: Exception | None = None
    record_errors: dict[str, RecordError] = field(default_factory=dict)
    usage: ApiUsage | None = None

    def deliver(self, targets: Sequence[Target]) -> dict[str, Delivered | RecordError]:
        self.calls.append(list(targets))
        if self.fail_with is not None:
            raise self.fail_with
        answer: dict[str, Delivered | RecordError] = {}
        for target in targets:
            key = target.record.key
            if key in self.record_errors:
                answer[key] = self.record_errors[key]
                continue
            record_id = target.record_id or f"00Q{key}"
            ids = {a.key: target.activity_ids.get(a.key) or f"00T{a.key}" for a in target.record.activities}
            answer[key] = Delivered(
                record_id=record_id, record_url=f"https://crm.example/{record_id}", activity_ids=ids
            )
        return answer

    def api_usage(self) -> ApiUsage | None:
        return self.usage


@pytest.fixture
def crms(monkeypatch: pytest.MonkeyPatch) -> dict[str, RecordingClient]:
    """Both CRMs configured as recording clients; deliveries are run by the test, not queued."""
    clients: dict[str, RecordingClient] = {
        Crm.SALESFORCE: RecordingClient("salesforce"),
        Crm.HUBSPOT: RecordingClient("hubspot", batch_size=100),
    }
    monkeypatch.setattr(outbox, "client_for", clients.get)
    queued: list[str] = []
    monkeypatch.setattr(outbox, "deliver_later", lambda crms=None, always=False: queued.extend(crms or Crm.values))
    return clients


def prospect(email: str = "ada@northwind-steel.example", **fields: Any) -> User:
    defaults = {
        "role": "engineer",
        "company": "Northwind Steel",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "country": "US",
        "contact_consent_at": timezone.now(),
    }
    return User.objects.create_user(email=email, password="pw", **{**defaults, **fields})


def demo_of(user: User, n: int = 1, status: str = Sandbox.Status.READY) -> Sandbox:
    (sandbox,) = Sandbox.objects.bulk_create(
        [
            Sandbox(
                schema_name=f"crm_{user.pk}_{n}",
                slug=f"crm-{user.pk}-{n}",
                name=f"Plant {n}",
                industry="steel",
                product="boileroptimizer",
                owner=user,
                status=status,
            )
        ]
    )
    made: Sandbox = sandbox
    return made


def syncs(user: User) -> list[tuple[str, str, list[str]]]:
    return sorted((s.crm, s.state, s.trigger_names) for s in CrmSync.objects.filter(lead__user=user))


# --- triggers ---------------------------------------------------------------------------------------------


def test_a_pricing_request_writes_one_pending_row_per_crm_with_its_triggers() -> None:
    user = prospect()
    sandbox = demo_of(user)

    event_record(name="demo_started", user=user, sandbox=sandbox)
    assert syncs(user) == []  # an ordinary event triggers nothing
    event_record(name="pricing_requested", user=user, sandbox=sandbox)

    assert syncs(user) == [
        ("hubspot", "pending", ["pricing_requested", "became_mql"]),
        ("salesforce", "pending", ["pricing_requested", "became_mql"]),
    ]


def test_the_row_rolls_back_with_the_event_that_triggered_it() -> None:
    user = prospect()
    sandbox = demo_of(user)

    def request_failing_after_the_event() -> None:
        with transaction.atomic():
            event_record(name="pricing_requested", user=user, sandbox=sandbox)
            assert len(syncs(user)) == 2
            raise RuntimeError("the request fails after the event")

    with pytest.raises(RuntimeError):
        request_failing_after_the_event()

    assert syncs(user) == []
    assert not Lead.objects.filter(user=user).exists()


def test_someone_who_did_not_agree_to_be_contacted_is_never_a_lead_nor_synced_until_they_agree(
    crms: dict[str, RecordingClient],
) -> None:
    user = prospect(contact_consent_at=None)
    sandbox = demo_of(user)

    for name in ("demo_started", "demo_completed", "pricing_requested", "sales_contact_requested", "poc_started"):
        event_record(name=name, user=user, sandbox=sandbox)  # every trigger, hand-raises included
    outbox.syncs_deliver(crm=Crm.SALESFORCE)

    assert syncs(user) == []
    assert not Lead.objects.filter(user=user).exists()
    assert crms[Crm.SALESFORCE].calls == []

    contact_consent_record(user=user)  # given later, on a call to action
    event_record(name="demo_completed", user=user, sandbox=sandbox)

    assert Lead.objects.filter(user=user).exists()
    assert [crm for crm, _, _ in syncs(user)] == ["hubspot", "salesforce"]


def test_a_completed_demo_and_becoming_an_mql_trigger_and_a_page_view_does_not() -> None:
    assert outbox.triggers_of(event_name="demo_completed", told=[]) == ["demo_completed"]
    assert outbox.triggers_of(event_name="report_generated", told=["New MQL — engagement 62"]) == ["became_mql"]
    assert outbox.triggers_of(event_name="poc_started", told=["Hand-raise: asked for a POC"]) == ["hand_raise"]
    assert outbox.triggers_of(event_name="page_view", told=[]) == []


def test_triggers_close_together_coalesce_into_one_delivery_of_the_latest_state(
    crms: dict[str, RecordingClient],
) -> None:
    user = prospect()
    sandbox = demo_of(user)
    event_record(name="pricing_requested", user=user, sandbox=sandbox)
    event_record(name="sales_contact_requested", user=user, sandbox=sandbox)
    event_record(name="demo_completed", user=user, sandbox=sandbox)

    assert CrmSync.objects.count() == 2  # one waiting row per CRM
    assert outbox.syncs_deliver(crm=Crm.SALESFORCE) == 1

    (call,) = crms[Crm.SALESFORCE].calls
    (target,) = call
    assert any("booked" in line or "sales" in line for line in target.record.breakdown)  # the latest state
    assert target.record.activities[0].status == "completed"
    row = CrmSync.objects.get(crm=Crm.SALESFORCE)
    assert row.state == State.DELIVERED
    assert row.attempts == 1
    assert row.record_id == f"00Qlead-{row.lead_id}"
    assert row.trigger_names == [
        "pricing_requested",
        "became_mql",
        "sales_contact_requested",
        "hand_raise",
        "demo_completed",
    ]


def test_a_delivery_passes_back_the_ids_the_crm_gave_before() -> None:
    user = prospect()
    sandbox = demo_of(user)
    client = RecordingClient()
    outbox_deliver_once(client, user, "pricing_requested", sandbox)
    outbox_deliver_once(client, user, "demo_completed", sandbox)

    first, second = (call[0] for call in client.calls)
    assert first.record_id == ""
    assert dict(first.activity_ids) == {}
    assert second.record_id == first.record.key.replace("lead-", "00Qlead-")
    assert dict(second.activity_ids) == {f"demo-{sandbox.pk}": f"00Tdemo-{sandbox.pk}"}
    assert CrmRecord.objects.get(crm="salesforce").activity_ids == {f"demo-{sandbox.pk}": f"00Tdemo-{sandbox.pk}"}


def outbox_deliver_once(client: RecordingClient, user: User, event: str, sandbox: Sandbox) -> None:
    event_record(name=event, user=user, sandbox=sandbox)
    claimed = outbox.syncs_claim(crm=client.name, limit=10, now=timezone.now())
    outbox.batch_deliver(client, claimed, timezone.now())


# --- one lead at a time, batches -------------------------------------------------------------------------


def test_a_lead_being_delivered_is_not_claimed_again_until_that_delivery_ends(
    crms: dict[str, RecordingClient],
) -> None:
    user = prospect()
    sandbox = demo_of(user)
    event_record(name="pricing_requested", user=user, sandbox=sandbox)
    now = timezone.now()
    (first,) = outbox.syncs_claim(crm=Crm.SALESFORCE, limit=10, now=now)
    event_record(name="demo_completed", user=user, sandbox=sandbox)  # a new waiting row beside the delivering one

    assert outbox.syncs_claim(crm=Crm.SALESFORCE, limit=10, now=now) == []

    outbox.batch_deliver(crms[Crm.SALESFORCE], [first], now)
    (second,) = outbox.syncs_claim(crm=Crm.SALESFORCE, limit=10, now=timezone.now())
    assert second != first


def test_many_leads_go_in_batches_of_the_clients_size(crms: dict[str, RecordingClient]) -> None:
    crms[Crm.HUBSPOT].batch_size = 2
    for n in range(5):
        user = prospect(f"p{n}@plant{n}.example")
        event_record(name="pricing_requested", user=user, sandbox=demo_of(user))

    assert outbox.syncs_deliver(crm=Crm.HUBSPOT) == 5
    assert [len(call) for call in crms[Crm.HUBSPOT].calls] == [2, 2, 1]
    assert not CrmSync.objects.filter(crm=Crm.HUBSPOT).exclude(state=State.DELIVERED).exists()


# --- failures ---------------------------------------------------------------------------------------------


def pending_lead() -> User:
    user = prospect()
    event_record(name="pricing_requested", user=user, sandbox=demo_of(user))
    return user


def test_a_crm_down_leaves_the_rows_failed_due_again_after_a_backoff_with_the_error_shown(
    crms: dict[str, RecordingClient],
) -> None:
    pending_lead()
    crms[Crm.SALESFORCE].fail_with = CrmUnavailableError("Salesforce answered 503 Service Unavailable.")
    now = timezone.now()

    assert outbox.syncs_deliver(crm=Crm.SALESFORCE, now=now) == 0

    row = CrmSync.objects.get(crm=Crm.SALESFORCE)
    assert row.state == State.FAILED
    assert row.attempts == 1
    assert row.last_error == "Salesforce answered 503 Service Unavailable."
    assert now + timedelta(seconds=24) <= row.due_at <= now + timedelta(seconds=36)  # 30 s ± 20 %
    assert outbox.syncs_deliver(crm=Crm.SALESFORCE, now=now + timedelta(seconds=5)) == 0  # not due yet
    assert len(crms[Crm.SALESFORCE].calls) == 1
    assert CrmStatus.objects.get(crm="salesforce").last_error.startswith("Salesforce answered 503")


def test_the_backoff_doubles_to_an_hour_and_follows_what_the_crm_asked_for() -> None:
    assert 24 <= outbox.backoff(1, None) <= 36
    assert 48 <= outbox.backoff(2, None) <= 72
    assert 2880 <= outbox.backoff(10, None) <= 4320  # capped at an hour
    assert 720 <= outbox.backoff(1, 900) <= 1080  # a rate limit's Retry-After


def test_a_row_dies_only_after_enough_attempts_over_a_day_and_then_waits_for_a_person(
    crms: dict[str, RecordingClient], settings: Any
) -> None:
    settings.CRM_SYNC_MAX_ATTEMPTS = 3
    user = pending_lead()
    crms[Crm.SALESFORCE].fail_with = CrmUnavailableError("down")
    start = timezone.now()
    for hours in (0, 1, 2, 3):  # four attempts within the day: failed, not dead
        outbox.syncs_deliver(crm=Crm.SALESFORCE, now=start + timedelta(hours=hours))
    assert CrmSync.objects.get(crm=Crm.SALESFORCE).state == State.FAILED

    outbox.syncs_deliver(crm=Crm.SALESFORCE, now=start + timedelta(hours=25))
    row = CrmSync.objects.get(crm=Crm.SALESFORCE)
    assert row.state == State.DEAD
    assert row.attempts == 5
    outbox.syncs_deliver(crm=Crm.SALESFORCE, now=start + timedelta(hours=30))
    assert len(crms[Crm.SALESFORCE].calls) == 5  # dead rows are not taken

    crms[Crm.SALESFORCE].fail_with = None
    outbox.sync_retry(sync=row, actor=staff(), now=start + timedelta(hours=30))
    assert outbox.syncs_deliver(crm=Crm.SALESFORCE, now=start + timedelta(hours=30)) == 1
    row.refresh_from_db()
    assert row.state == State.DELIVERED
    assert row.trigger_names[-1] == "retried"
    assert CrmRecord.objects.filter(lead__user=user, crm="salesforce").count() == 1


def staff() -> User:
    return User.objects.get_or_create(email="jane.seller@vendor.example", defaults={"is_staff": True})[0]


def test_a_refusal_is_retried_like_an_outage_and_says_refused(crms: dict[str, RecordingClient]) -> None:
    pending_lead()
    crms[Crm.HUBSPOT].fail_with = CrmRefusedError("401: the access token is not valid.")

    outbox.syncs_deliver(crm=Crm.HUBSPOT)

    row = CrmSync.objects.get(crm=Crm.HUBSPOT)
    assert row.state == State.FAILED
    assert row.last_error == "Refused: 401: the access token is not valid."


def test_a_lead_the_crm_rejects_for_good_is_dead_at_once_and_the_others_are_delivered(
    crms: dict[str, RecordingClient],
) -> None:
    bad = prospect("bad@plant.example")
    good = prospect("good@plant.example")
    for user in (bad, good):
        event_record(name="pricing_requested", user=user, sandbox=demo_of(user))
    bad_key = f"lead-{Lead.objects.get(user=bad).pk}"
    crms[Crm.SALESFORCE].record_errors[bad_key] = RecordError("INVALID_EMAIL_ADDRESS: Email", retryable=False)

    assert outbox.syncs_deliver(crm=Crm.SALESFORCE) == 1

    assert syncs(bad)[1][:2] == ("salesforce", "dead")
    assert syncs(good)[1][:2] == ("salesforce", "delivered")
    assert CrmSync.objects.get(lead__user=bad, crm="salesforce").last_error == "INVALID_EMAIL_ADDRESS: Email"


def test_an_unexpected_error_leaves_the_rows_failed_and_is_raised(crms: dict[str, RecordingClient]) -> None:
    pending_lead()
    crms[Crm.SALESFORCE].fail_with = KeyError("records")

    with pytest.raises(KeyError):
        outbox.syncs_deliver(crm=Crm.SALESFORCE)

    row = CrmSync.objects.get(crm=Crm.SALESFORCE)
    assert row.state == State.FAILED
    assert row.last_error == "KeyError: 'records'"


def test_only_a_failed_or_dead_row_can_be_retried(crms: dict[str, RecordingClient]) -> None:
    pending_lead()
    outbox.syncs_deliver(crm=Crm.SALESFORCE)
    row = CrmSync.objects.get(crm=Crm.SALESFORCE)

    with pytest.raises(DomainError, match="only a failed or dead one") as refused:
        outbox.sync_retry(sync=row, actor=staff())
    assert refused.value.status_code == 409


# --- the sweep, and a CRM configured late ------------------------------------------------------------------


def test_the_sweep_takes_back_a_delivery_whose_worker_died_and_it_is_delivered_once(
    crms: dict[str, RecordingClient],
) -> None:
    user = pending_lead()
    now = timezone.now()
    (claimed,) = outbox.syncs_claim(crm=Crm.SALESFORCE, limit=10, now=now)  # the worker dies here

    assert outbox.syncs_sweep(now=now + timedelta(seconds=30))["taken_back"] == 0  # its claim still runs
    later = now + outbox.lease() + timedelta(seconds=1)
    assert outbox.syncs_sweep(now=later)["taken_back"] == 1

    row = CrmSync.objects.get(pk=claimed)
    assert row.state == State.FAILED
    assert "worker stopped" in row.last_error
    assert outbox.syncs_deliver(crm=Crm.SALESFORCE, now=later + timedelta(seconds=2)) == 1
    assert CrmSync.objects.get(pk=claimed).attempts == 2
    assert CrmRecord.objects.filter(lead__user=user).count() == 1


def test_a_dead_workers_row_hands_its_triggers_to_the_leads_newer_waiting_row(
    crms: dict[str, RecordingClient],
) -> None:
    user = pending_lead()
    now = timezone.now()
    (claimed,) = outbox.syncs_claim(crm=Crm.SALESFORCE, limit=10, now=now)
    event_record(name="demo_completed", user=user, sandbox=Sandbox.objects.get(owner=user))

    outbox.syncs_sweep(now=now + outbox.lease() + timedelta(seconds=1))

    assert CrmSync.objects.get(pk=claimed).state == State.SUPERSEDED
    waiting = CrmSync.objects.get(crm=Crm.SALESFORCE, state=State.PENDING)
    assert waiting.trigger_names == ["pricing_requested", "became_mql", "demo_completed"]


def test_rows_wait_while_no_crm_is_configured_and_are_delivered_once_one_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbox, "client_for", lambda crm: None)
    queued: list[str] = []
    monkeypatch.setattr(outbox, "deliver_later", lambda crms=None, always=False: queued.extend(crms or []))
    pending_lead()

    assert outbox.syncs_deliver(crm=Crm.SALESFORCE) == 0
    assert outbox.syncs_sweep()["crms_queued"] == 0
    assert outbox.backlog()["salesforce"] | {"oldest_waiting_seconds": 0} == {
        "configured": False,
        "waiting": 1,
        "failed": 0,
        "dead": 0,
        "oldest_waiting_seconds": 0,
        "last_success_at": None,
        "api_used": None,
        "api_limit": None,
    }

    client = RecordingClient("salesforce", usage=ApiUsage(used=18, limit=5000))
    monkeypatch.setattr(outbox, "client_for", {"salesforce": client}.get)
    assert outbox.syncs_sweep() == {"taken_back": 0, "crms_queued": 1}
    assert queued == ["salesforce"]
    assert outbox.syncs_deliver(crm=Crm.SALESFORCE) == 1
    report = outbox.backlog()["salesforce"]
    assert report["configured"]
    assert report["waiting"] == 0
    assert (report["api_used"], report["api_limit"]) == (18, 5000)


def test_erasing_the_prospect_erases_their_syncs_and_crm_links(crms: dict[str, RecordingClient]) -> None:
    user = pending_lead()
    outbox.syncs_deliver(crm=Crm.SALESFORCE)

    user.delete()

    assert not CrmSync.objects.exists()
    assert not CrmRecord.objects.exists()


# --- what a CRM receives ----------------------------------------------------------------------------------


def test_the_record_carries_contact_score_breakdown_action_and_each_demo() -> None:
    user = prospect(phone="+442079460958", job_title="Energy manager")
    running = demo_of(user, 1)
    ended = demo_of(user, 2, status=Sandbox.Status.EXPIRED)
    Sandbox.objects.filter(pk=ended.pk).update(created_at=timezone.now() - timedelta(days=2))
    event_record(name="demo_started", user=user, sandbox=ended)
    event_record(name="feature_viewed", user=user, sandbox=ended, properties={"feature": "o2_trim"})
    event_record(name="savings_calculated", user=user, sandbox=ended)
    event_record(name="pricing_requested", user=user, sandbox=running)
    lead = Lead.objects.get(user=user)

    record = lead_records([lead.pk])[lead.pk]

    assert (record.key, record.email, record.first_name, record.last_name) == (
        f"lead-{lead.pk}",
        "ada@northwind-steel.example",
        "Ada",
        "Lovelace",
    )
    assert (record.company, record.title, record.phone, record.country) == (
        "Northwind Steel",
        "Energy manager",
        "+442079460958",
        "US",
    )
    assert record.stage == "mql"
    assert record.total_score == record.fit_score + record.engagement_score
    assert record.breakdown[0].startswith("+")  # fit first
    assert any(line.startswith("+50 requested pricing for BoilerOptimizer") for line in record.breakdown)
    assert record.recommended_action == lead.recommended_action
    assert record.lead_url.endswith(f"/admin/analytics/lead/{lead.pk}/change/")
    assert record.watch_url.endswith(f"/admin/sandboxes/sandbox/{running.pk}/watch/")
    newest, older = record.activities
    assert (newest.key, newest.status, newest.product, newest.industry) == (
        f"demo-{running.pk}",
        "running",
        "BoilerOptimizer",
        "Steel",
    )
    assert newest.engagement_points == 50
    assert newest.watch_url
    assert (older.status, older.watch_url, older.features) == ("ended", "", ["O2 trim", "Savings calculated"])


def test_a_lead_without_names_or_company_still_has_what_salesforce_requires() -> None:
    user = prospect("j.smith@gmail.com", first_name="", last_name="", company="")
    event_record(name="pricing_requested", user=user)
    lead = Lead.objects.get(user=user)

    record = lead_records([lead.pk])[lead.pk]

    assert (record.last_name, record.company, list(record.activities)) == ("j.smith", "[not provided]", [])


def test_healthz_reports_each_crms_backlog_and_stays_ok_while_rows_wait(client: Any) -> None:
    assert client.get("/healthz", HTTP_HOST="localhost").json()["checks"]["crm"] == {"ok": True}
    pending_lead()

    checks = client.get("/healthz", HTTP_HOST="localhost").json()["checks"]

    assert checks["crm"]["ok"] is True
    assert checks["crm"]["salesforce"] | {"oldest_waiting_seconds": 0} == {
        "configured": False,
        "last_success_at": None,
        "waiting": 1,
        "oldest_waiting_seconds": 0,
        "failed": 0,
        "dead": 0,
    }
    assert checks["crm"]["hubspot"]["waiting"] == 1


def test_a_burst_of_triggers_queues_one_delivery_until_it_starts_then_the_next_queues_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crm import tasks

    monkeypatch.setattr(outbox, "client_for", {"salesforce": RecordingClient("salesforce")}.get)
    sent: list[str] = []
    monkeypatch.setattr(tasks.syncs_deliver_task, "delay", lambda crm: sent.append(crm))
    outbox.delivery_flag_clear("salesforce")

    for _ in range(50):
        outbox.deliver_later()
    assert sent == ["salesforce"]  # HubSpot is not configured: nothing for it

    outbox.syncs_deliver(crm="salesforce")  # the task starts: its flag goes before it claims
    outbox.deliver_later()
    assert sent == ["salesforce", "salesforce"]
    outbox.deliver_later(["salesforce"], always=True)  # the sweep queues regardless
    assert sent == ["salesforce"] * 3
    outbox.delivery_flag_clear("salesforce")
