"""The HubSpot client (crm/sync/hubspot.py) through the real hubspot-api-client, against the fake HubSpot
(tests/crm/fake_hubspot.py) on 127.0.0.1: what it makes in HubSpot, in how many calls, and how each failure of
HubSpot reaches the outbox."""

from __future__ import annotations

import email.utils
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crm.sync.hubspot import DEMO_PROPERTIES, SCOPES, HubSpotClient, HubSpotRetry
from crm.sync.records import (
    Activity,
    ApiUsage,
    CrmRefusedError,
    CrmUnavailableError,
    Delivered,
    LeadRecord,
    RecordError,
    Target,
)
from tests.crm.fake_hubspot import PORTAL_ID, FakeHubSpot

STARTED = datetime(2026, 12, 3, 14, 3, tzinfo=UTC)
UPSERT = "/crm/v3/objects/contacts/batch/upsert"
NOTES_CREATE = "/crm/v3/objects/notes/batch/create"


def demo(n: int = 1, **changes: Any) -> Activity:
    made = Activity(
        key=f"demo-{n}",
        product="BoilerOptimizer",
        industry="Steel",
        started_at=STARTED,
        ended_at=None,
        status="running",
        duration_minutes=12,
        features=("Boiler load", "Steam <trap> survey"),
        engagement_points=40,
        watch_url=f"https://demo.example.com/admin/sandboxes/{n}/watch/?a=1&b=2",
    )
    return replace(made, **changes)


def lead(n: int = 1, **changes: Any) -> LeadRecord:
    made = LeadRecord(
        key=f"lead-{n}",
        email=f"buyer{n}@refinery.example",
        first_name="Ada",
        last_name="Buyer",
        company="Gulf Refining",
        title="Energy manager",
        role="engineer",
        phone="+442079460958",
        country="GB",
        stage="mql",
        fit_grade="B",
        fit_score=35,
        engagement_score=52,
        total_score=87,
        breakdown=("+50 requested pricing for BoilerOptimizer on 2 Dec 14:03 (rule v3)", "+2 viewed a KPI (rule v3)"),
        recommended_action="Call within 24 hours",
        lead_url=f"https://demo.example.com/admin/crm/lead/{n}/",
        watch_url="https://demo.example.com/admin/sandboxes/1/watch/",
        activities=(demo(n),),
        built_at=STARTED,
    )
    return replace(made, **changes)


def hubspot() -> HubSpotClient:
    client = HubSpotClient.from_settings()
    assert client is not None
    return client


def delivered(answer: Delivered | RecordError) -> Delivered:
    assert isinstance(answer, Delivered), answer
    return answer


@pytest.fixture(autouse=True)
def no_backoff_pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """urllib3's pauses between a call's retries (its backoff, a short Retry-After) are recorded, not slept: the
    retries themselves happen, and the suite does not wait through them."""
    pauses: list[float] = []

    def sleep(self: HubSpotRetry, response: Any = None) -> None:
        pauses.append(self.get_backoff_time())

    monkeypatch.setattr(HubSpotRetry, "sleep", sleep)
    return pauses


@pytest.fixture(autouse=True)
def network_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every connection the client opens goes to the fake on 127.0.0.1: one to any other host is refused, noted,
    and fails the test (unless the test takes the note itself)."""
    escaped: list[str] = []
    resolve = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in {"127.0.0.1", "localhost", "::1"}:
            escaped.append(str(host))
            raise OSError(f"the tests' network guard: {host} is not the fake HubSpot")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield escaped
    assert not escaped, f"calls escaped to {escaped}"


# Configuration.


def test_no_client_without_a_token(settings: Any) -> None:
    settings.HUBSPOT_ACCESS_TOKEN = ""
    assert HubSpotClient.from_settings() is None


def test_every_call_goes_to_the_configured_api_base(fake_hubspot: FakeHubSpot, network_guard: list[str]) -> None:
    first = hubspot().deliver([Target(lead(1))])
    note_id = delivered(first["lead-1"]).activity_ids["demo-1"]
    hubspot().deliver([Target(lead(1), record_id="", activity_ids={"demo-1": note_id})])

    endpoints = {"group_get", "group_create", "properties_list", "property_create", "account_info"}
    endpoints |= {"contacts_upsert", "notes_create", "notes_update"}
    assert endpoints <= set(fake_hubspot.calls)
    assert not network_guard
    assert {seen.authorization for seen in fake_hubspot.seen} == {f"Bearer {fake_hubspot.token}"}


def test_the_network_guard_catches_a_call_to_hubspot(fake_hubspot: FakeHubSpot, network_guard: list[str]) -> None:
    """The guard the other tests rely on: the client pointed at HubSpot's real host is stopped and noted."""
    client = HubSpotClient(access_token=fake_hubspot.token, api_base="https://api.hubapi.com", timeout=5)
    with pytest.raises(CrmUnavailableError, match=r"could not connect to https://api\.hubapi\.com"):
        client.deliver([Target(lead(1))])
    assert set(network_guard) == {"api.hubapi.com"}
    network_guard.clear()


def test_another_process_reaches_the_fake(fake_hubspot: FakeHubSpot) -> None:
    """A worker process pointed at the fake through its environment gets its answers."""
    script = (
        "import os, urllib.request\n"
        "request = urllib.request.Request(os.environ['HUBSPOT_API_BASE'] + '/account-info/v3/details',"
        " headers={'Authorization': 'Bearer ' + os.environ['HUBSPOT_ACCESS_TOKEN']})\n"
        "print(urllib.request.urlopen(request, timeout=10).read().decode())\n"
    )
    environment = {"PATH": "/usr/bin:/bin", **fake_hubspot.environment()}
    answer = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, check=True, timeout=30
    )
    assert json.loads(answer.stdout)["portalId"] == PORTAL_ID


# The property group and properties.


def test_first_delivery_creates_the_property_group_and_properties_then_never_again(fake_hubspot: FakeHubSpot) -> None:
    hubspot().deliver([Target(lead(1))])

    assert fake_hubspot.groups["demo_portal"]["label"] == "Demo portal"
    ours = {name: prop for name, prop in fake_hubspot.properties.items() if name.startswith("demo_")}
    assert set(ours) == {spec.name for spec in DEMO_PROPERTIES}
    assert {prop["groupName"] for prop in ours.values()} == {"demo_portal"}
    assert ours["demo_score_breakdown"]["fieldType"] == "textarea"
    assert ours["demo_total_score"]["type"] == "number"
    assert fake_hubspot.calls["group_create"] == 1
    assert fake_hubspot.calls["property_create"] == len(DEMO_PROPERTIES) == 13

    hubspot().deliver([Target(lead(2))])  # another client, in the same process
    assert fake_hubspot.calls["group_get"] == 1
    assert fake_hubspot.calls["properties_list"] == 1
    assert fake_hubspot.calls["group_create"] == 1
    assert fake_hubspot.calls["property_create"] == 13
    assert fake_hubspot.calls["account_info"] == 1


def test_only_missing_properties_are_created_and_a_409_is_as_good(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.groups["demo_portal"] = {"name": "demo_portal", "label": "Demo portal", "displayOrder": -1}
    for spec in DEMO_PROPERTIES[:10]:
        fake_hubspot.add_property(spec.name, kind=spec.type, field_type=spec.field_type, group="demo_portal")
    # Someone else creates this one between our reading the properties and our creating it.
    late = DEMO_PROPERTIES[10]
    fake_hubspot.add_property(late.name, kind=late.type, field_type=late.field_type, group="demo_portal")
    fake_hubspot.hidden_properties.add(late.name)

    answers = hubspot().deliver([Target(lead(1))])

    delivered(answers["lead-1"])
    assert fake_hubspot.calls["group_create"] == 0
    assert fake_hubspot.calls["property_create"] == 3
    assert [seen.status for seen in fake_hubspot.seen if seen.endpoint == "property_create"] == [409, 201, 201]


def test_a_property_deleted_in_hubspot_is_made_again_on_the_next_delivery(fake_hubspot: FakeHubSpot) -> None:
    client = hubspot()
    targets = [Target(lead(n)) for n in range(1, 4)]
    client.deliver(targets)
    del fake_hubspot.properties["demo_stage"]

    with pytest.raises(CrmUnavailableError, match="lacks one of our contact properties"):
        client.deliver(targets)
    assert fake_hubspot.calls["contacts_upsert"] == 2  # the batch was not halved: every input would fail

    assert all(isinstance(answer, Delivered) for answer in client.deliver(targets).values())
    assert "demo_stage" in fake_hubspot.properties
    assert {contact["demo_stage"] for contact in fake_hubspot.contacts.values()} == {"mql"}


# Contacts.


def test_a_lead_becomes_a_contact_with_our_properties(fake_hubspot: FakeHubSpot) -> None:
    answers = hubspot().deliver([Target(lead(1))])

    answer = delivered(answers["lead-1"])
    contact = fake_hubspot.contacts[answer.record_id]
    assert contact["email"] == "buyer1@refinery.example"
    assert (contact["firstname"], contact["lastname"]) == ("Ada", "Buyer")
    assert (contact["company"], contact["jobtitle"], contact["phone"], contact["country"]) == (
        "Gulf Refining",
        "Energy manager",
        "+442079460958",
        "GB",
    )
    assert contact["demo_product"] == "BoilerOptimizer"
    assert contact["demo_industry"] == "Steel"
    assert contact["demo_features"] == "Boiler load, Steam <trap> survey"
    assert contact["demo_duration_minutes"] == "12"
    assert (contact["demo_engagement_score"], contact["demo_total_score"]) == ("52", "87")
    assert contact["demo_fit_grade"] == "B"
    assert contact["demo_stage"] == "mql"
    assert contact["demo_score_breakdown"] == (
        "+50 requested pricing for BoilerOptimizer on 2 Dec 14:03 (rule v3)\n+2 viewed a KPI (rule v3)"
    )
    assert contact["demo_recommended_action"] == "Call within 24 hours"
    assert contact["demo_watch_url"] == "https://demo.example.com/admin/sandboxes/1/watch/"
    assert contact["demo_lead_url"] == "https://demo.example.com/admin/crm/lead/1/"
    assert contact["demo_portal_id"] == "lead-1"
    assert answer.record_url == f"https://app-eu1.hubspot.com/contacts/{PORTAL_ID}/record/0-1/{answer.record_id}"


def test_a_second_delivery_updates_the_same_contact_found_by_email(fake_hubspot: FakeHubSpot) -> None:
    first = delivered(hubspot().deliver([Target(lead(1))])["lead-1"])

    changed = lead(1, email="Buyer1@Refinery.Example", total_score=140, stage="sql", watch_url="")
    second = delivered(hubspot().deliver([Target(changed, record_id=first.record_id)])["lead-1"])

    assert second.record_id == first.record_id
    assert second.note == ""
    assert len(fake_hubspot.contacts) == 1
    contact = fake_hubspot.contacts[first.record_id]
    assert (contact["demo_total_score"], contact["demo_stage"], contact["demo_watch_url"]) == ("140", "sql", "")


def test_answers_are_matched_to_leads_by_email_not_by_order(fake_hubspot: FakeHubSpot) -> None:
    """The fake answers a batch backwards, as HubSpot may answer in any order."""
    leads = [lead(n, first_name=f"Person {n}") for n in range(1, 6)]
    answers = hubspot().deliver([Target(record) for record in leads])

    for record in leads:
        contact = fake_hubspot.contacts[delivered(answers[record.key]).record_id]
        assert (contact["email"], contact["firstname"]) == (record.email, record.first_name)


def test_what_the_portal_does_not_know_does_not_erase_what_hubspot_has(fake_hubspot: FakeHubSpot) -> None:
    contact_id = fake_hubspot.add_contact("buyer1@refinery.example", phone="+1 555 0100", company="Gulf Refining plc")

    answer = delivered(hubspot().deliver([Target(lead(1, phone="", company="[not provided]"))])["lead-1"])

    assert answer.record_id == contact_id
    assert fake_hubspot.contacts[contact_id]["phone"] == "+1 555 0100"
    assert fake_hubspot.contacts[contact_id]["company"] == "Gulf Refining plc"


def test_a_changed_contact_id_is_said(fake_hubspot: FakeHubSpot) -> None:
    answer = delivered(hubspot().deliver([Target(lead(1), record_id="999")])["lead-1"])
    assert answer.note.startswith(f"the HubSpot contact is now {answer.record_id}, was 999")


def test_250_leads_go_in_three_upserts_of_at_most_100(fake_hubspot: FakeHubSpot) -> None:
    answers = hubspot().deliver([Target(lead(n)) for n in range(1, 251)])

    assert all(isinstance(answer, Delivered) for answer in answers.values())
    assert len(answers) == len(fake_hubspot.contacts) == 250
    assert fake_hubspot.batch_sizes("contacts_upsert") == [100, 100, 50]
    assert fake_hubspot.batch_sizes("notes_create") == [100, 100, 50]
    assert len(fake_hubspot.notes) == 250


def test_two_leads_with_one_email_go_in_different_batches(fake_hubspot: FakeHubSpot) -> None:
    """HubSpot refuses a batch naming an e-mail twice; both leads reach the one contact."""
    answers = hubspot().deliver([Target(lead(1)), Target(lead(2, email="BUYER1@refinery.example"))])

    assert delivered(answers["lead-1"]).record_id == delivered(answers["lead-2"]).record_id
    assert fake_hubspot.batch_sizes("contacts_upsert") == [1, 1]


def test_a_lead_without_email_is_refused_without_a_call(fake_hubspot: FakeHubSpot) -> None:
    answers = hubspot().deliver([Target(lead(1, email=" "))])

    assert answers["lead-1"] == RecordError("no e-mail address: HubSpot finds contacts by e-mail", retryable=False)
    assert not fake_hubspot.seen


def test_an_invalid_email_refused_with_the_whole_batch_fails_that_lead_only(fake_hubspot: FakeHubSpot) -> None:
    leads = [lead(n) for n in range(1, 6)]
    leads[3] = lead(4, email="buyer4@refinery")  # no top-level domain: HubSpot refuses it (and the whole batch)

    answers = hubspot().deliver([Target(record) for record in leads])

    error = answers["lead-4"]
    assert isinstance(error, RecordError)
    assert "Email address buyer4@refinery is invalid" in error.message
    assert not error.retryable
    for n in (1, 2, 3, 5):
        delivered(answers[f"lead-{n}"])
    assert len(fake_hubspot.contacts) == 4
    assert len(fake_hubspot.notes) == 4


def test_an_invalid_email_answered_in_a_multi_status_fails_that_lead_only(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.invalid_email_answer = "multi-status"
    leads = [lead(1), lead(2, email="buyer2@refinery"), lead(3)]

    answers = hubspot().deliver([Target(record) for record in leads])

    error = answers["lead-2"]
    assert isinstance(error, RecordError)
    assert "Email address buyer2@refinery is invalid" in error.message
    assert not error.retryable
    delivered(answers["lead-1"])
    delivered(answers["lead-3"])
    assert fake_hubspot.calls["contacts_upsert"] == 1


# Notes.


def test_each_demo_becomes_a_note_on_the_contact(fake_hubspot: FakeHubSpot) -> None:
    record = lead(1, activities=(demo(1), demo(2, product="ThermalCommand", status="completed", watch_url="")))
    answer = delivered(hubspot().deliver([Target(record)])["lead-1"])

    assert set(answer.activity_ids) == {"demo-1", "demo-2"}
    notes = fake_hubspot.notes_of(answer.record_id)
    assert {note.id for note in notes} == set(answer.activity_ids.values())
    note = fake_hubspot.notes[answer.activity_ids["demo-1"]]
    assert note.association_types == [("HUBSPOT_DEFINED", 202)]
    assert note.properties["hs_timestamp"] == "2026-12-03T14:03:00.000Z"
    body = note.properties["hs_note_body"]
    assert "Demo: BoilerOptimizer (Steel)" in body
    assert "12 minutes of activity · 40 engagement points" in body
    assert "Features explored: Boiler load, Steam &lt;trap&gt; survey" in body
    assert '<a href="https://demo.example.com/admin/sandboxes/1/watch/?a=1&amp;b=2">Watch live</a>' in body
    other = fake_hubspot.notes[answer.activity_ids["demo-2"]].properties["hs_note_body"]
    assert "Completed (tour finished)" in other
    assert "Watch live" not in other


def test_a_second_delivery_updates_the_note_instead_of_adding_one(fake_hubspot: FakeHubSpot) -> None:
    first = delivered(hubspot().deliver([Target(lead(1))])["lead-1"])

    later = lead(1, activities=(demo(1, duration_minutes=31, status="ended", ended_at=STARTED, watch_url=""),))
    target = Target(later, record_id=first.record_id, activity_ids=first.activity_ids)
    second = delivered(hubspot().deliver([target])["lead-1"])

    assert second.activity_ids == first.activity_ids
    notes = fake_hubspot.notes_of(first.record_id)
    assert len(notes) == 1
    assert "31 minutes of activity" in notes[0].properties["hs_note_body"]
    assert "Watch live" not in notes[0].properties["hs_note_body"]
    assert fake_hubspot.calls["notes_create"] == 1
    assert fake_hubspot.calls["notes_update"] == 1


@pytest.mark.parametrize("answer", ["batch", "multi-status"])
def test_a_note_deleted_in_hubspot_is_created_again(fake_hubspot: FakeHubSpot, answer: str) -> None:
    """HubSpot names the notes it lacks, refusing the batch (404) or in a 207: those are created again."""
    fake_hubspot.missing_note_answer = answer
    first = delivered(hubspot().deliver([Target(lead(1)), Target(lead(2))])["lead-1"])
    del fake_hubspot.notes[first.activity_ids["demo-1"]]
    kept = {note.id for note in fake_hubspot.notes.values()}

    second = hubspot().deliver(
        [
            Target(lead(1), record_id=first.record_id, activity_ids=first.activity_ids),
            Target(lead(2), activity_ids={"demo-2": next(iter(kept))}),
        ]
    )

    again = delivered(second["lead-1"]).activity_ids["demo-1"]
    assert again != first.activity_ids["demo-1"]
    assert again in fake_hubspot.notes
    assert delivered(second["lead-2"]).activity_ids == {"demo-2": next(iter(kept))}
    assert len(fake_hubspot.notes) == 2


def test_a_contact_left_out_of_the_answer_fails_that_lead_only(fake_hubspot: FakeHubSpot) -> None:
    def leave_out_buyer2(status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        body["results"] = [r for r in body["results"] if r["properties"]["email"] != "buyer2@refinery.example"]
        return status, body

    fake_hubspot.tamper("contacts_upsert", leave_out_buyer2)

    answers = hubspot().deliver([Target(lead(1)), Target(lead(2))])

    delivered(answers["lead-1"])
    assert answers["lead-2"] == RecordError(
        "HubSpot's answer to upserting contacts did not include buyer2@refinery.example", retryable=True
    )


def test_the_halving_of_a_refused_batch_stops_after_32_calls(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.fail(400, times=1000, path=UPSERT)

    answers = hubspot().deliver([Target(lead(n)) for n in range(1, 101)])

    assert fake_hubspot.calls["contacts_upsert"] == 1 + 32
    errors = list(answers.values())
    assert all(isinstance(error, RecordError) for error in errors)
    alone = [e for e in errors if isinstance(e, RecordError) and e.message.startswith("HubSpot refused the contact")]
    assert alone
    assert all(not error.retryable for error in alone)
    in_a_batch = [e for e in errors if isinstance(e, RecordError) and "the batch of contacts" in e.message]
    assert in_a_batch
    assert all(error.retryable for error in in_a_batch)
    assert len(alone) + len(in_a_batch) == 100


def test_a_refused_note_fails_its_lead_only(fake_hubspot: FakeHubSpot) -> None:
    """The batch of notes refused as a whole is halved; the lead whose note HubSpot refuses answers an error
    (its contact was delivered: the next delivery makes the note), the other is delivered."""
    fake_hubspot.fail(400, times=2, path=NOTES_CREATE)

    answers = hubspot().deliver([Target(lead(1)), Target(lead(2))])

    assert answers["lead-1"] == RecordError(
        "the contact was delivered, a note was not: demo-1: 400 VALIDATION_ERROR: injected error", retryable=True
    )
    assert set(delivered(answers["lead-2"]).activity_ids) == {"demo-2"}
    assert fake_hubspot.calls["notes_create"] == 3


def test_notes_refused_in_a_multi_status(fake_hubspot: FakeHubSpot) -> None:
    """A lead with one of its notes made is delivered with it (its id must not be lost), saying what was not;
    a lead with none made answers an error."""
    refused = {"lead-1/demo-12", "lead-2/demo-2"}

    def refuse(status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        body["results"] = [r for r in body["results"] if r["objectWriteTraceId"] not in refused]
        errors = [
            {"status": "error", "category": "VALIDATION_ERROR", "message": "Note too long", "context": {"ids": [t]}}
            for t in sorted(refused)
        ]
        return 207, {**body, "numErrors": 2, "errors": errors}

    fake_hubspot.tamper("notes_create", refuse)

    answers = hubspot().deliver([Target(lead(1, activities=(demo(1), demo(12)))), Target(lead(2))])

    first = delivered(answers["lead-1"])
    assert set(first.activity_ids) == {"demo-1"}
    assert "1 demo note(s) not delivered" in first.note
    assert "demo-12: VALIDATION_ERROR: Note too long" in first.note
    assert answers["lead-2"] == RecordError(
        "the contact was delivered, a note was not: demo-2: VALIDATION_ERROR: Note too long", retryable=True
    )


def test_a_failure_after_notes_were_created_keeps_their_ids(fake_hubspot: FakeHubSpot) -> None:
    """Raising would lose the ids of the notes made, and the retry would make them twice: the leads done are
    delivered, the others answer a retryable error."""
    fake_hubspot.rate_limit = 1000
    fake_hubspot.fail(503, times=4, path=NOTES_CREATE, skip=1)  # the second call of notes, and its retries

    answers = hubspot().deliver([Target(lead(n)) for n in range(1, 151)])

    done = [answer for answer in answers.values() if isinstance(answer, Delivered)]
    failed = [answer for answer in answers.values() if isinstance(answer, RecordError)]
    assert (len(done), len(failed)) == (100, 50)
    assert {note_id for answer in done for note_id in answer.activity_ids.values()} == set(fake_hubspot.notes)
    assert all(error.retryable and "503" in error.message for error in failed)


def test_a_failure_before_any_note_was_created_is_raised(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.fail(503, times=4, path=NOTES_CREATE)

    with pytest.raises(CrmUnavailableError, match="creating notes"):
        hubspot().deliver([Target(lead(1))])
    assert not fake_hubspot.notes


# Failures of HubSpot.


def test_a_refused_property_group_is_refused(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.fail(400, path="/crm/v3/properties/contacts/groups", method="POST")

    with pytest.raises(CrmRefusedError, match=r"refused creating the property group \(400 VALIDATION_ERROR"):
        hubspot().deliver([Target(lead(1))])


def test_an_unexpected_refusal_is_refused_not_a_crash(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.fail(404, path="/crm/v3/properties/contacts", method="GET", skip=1)  # after the group's GET

    with pytest.raises(CrmRefusedError, match=r"refused reading the contact properties \(404"):
        hubspot().deliver([Target(lead(1))])


def test_a_redirect_is_not_followed(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.fail(301, path=UPSERT)

    with pytest.raises(CrmRefusedError, match=r"redirect \(301 to https://api\.hubapi\.com/crm/v3/objects/contacts"):
        hubspot().deliver([Target(lead(1))])
    assert fake_hubspot.calls["contacts_upsert"] == 1


def test_a_wrong_token_is_refused(fake_hubspot: FakeHubSpot) -> None:
    client = HubSpotClient(access_token="pat-na1-revoked", api_base=fake_hubspot.base_url, timeout=5)

    with pytest.raises(CrmRefusedError) as refused:
        client.deliver([Target(lead(1))])
    message = str(refused.value)
    assert "401 INVALID_AUTHENTICATION: Authentication credentials not found" in message
    assert "HUBSPOT_ACCESS_TOKEN" in message
    assert all(scope in message for scope in SCOPES)
    assert fake_hubspot.calls["group_get"] == 1  # not retried


def test_a_missing_scope_is_refused_naming_the_scopes(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.scopes.discard("crm.objects.contacts.write")

    with pytest.raises(CrmRefusedError) as refused:
        hubspot().deliver([Target(lead(1))])
    assert "upserting contacts (403 MISSING_SCOPES" in str(refused.value)
    assert "HubSpot names crm.objects.contacts.write" in str(refused.value)
    assert all(scope in str(refused.value) for scope in SCOPES)


def test_a_429_with_retry_after_is_waited_for_and_retried(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.fail(429, path=UPSERT, retry_after=1)

    delivered(hubspot().deliver([Target(lead(1))])["lead-1"])

    assert [seen.status for seen in fake_hubspot.seen if seen.endpoint == "contacts_upsert"] == [429, 200]


def test_a_429_that_lasts_is_unavailable_with_retry_after(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.fail(429, times=10, path=UPSERT, retry_after=1)

    with pytest.raises(CrmUnavailableError, match="TEN_SECONDLY_ROLLING") as unavailable:
        hubspot().deliver([Target(lead(1))])
    assert unavailable.value.retry_after == 1.0
    assert fake_hubspot.calls["contacts_upsert"] == 4  # the call and three retries


def test_a_long_retry_after_is_the_outboxs_wait_not_the_workers(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.fail(429, times=10, path=UPSERT, retry_after=60)

    with pytest.raises(CrmUnavailableError) as unavailable:
        hubspot().deliver([Target(lead(1))])
    assert unavailable.value.retry_after == 60.0
    assert fake_hubspot.calls["contacts_upsert"] == 1


def test_without_retry_after_the_rate_limit_headers_say_how_long(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.fail(429, times=10, path=UPSERT)  # Remaining 0 of an interval of 10,000 ms

    with pytest.raises(CrmUnavailableError) as unavailable:
        hubspot().deliver([Target(lead(1))])
    assert unavailable.value.retry_after == 10.0
    assert fake_hubspot.calls["contacts_upsert"] == 4


def test_a_retry_after_date_is_read(fake_hubspot: FakeHubSpot) -> None:
    in_a_minute = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    fake_hubspot.fail(429, times=10, path=UPSERT, retry_after=in_a_minute)

    with pytest.raises(CrmUnavailableError) as unavailable:
        hubspot().deliver([Target(lead(1))])
    assert unavailable.value.retry_after is not None
    assert 30 < unavailable.value.retry_after <= 60
    assert fake_hubspot.calls["contacts_upsert"] == 1


def test_the_daily_limit_is_waited_out_for_an_hour(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.fail(429, times=10, path=UPSERT, policy="DAILY")

    with pytest.raises(CrmUnavailableError, match="DAILY") as unavailable:
        hubspot().deliver([Target(lead(1))])
    assert unavailable.value.retry_after == 3600


def test_the_rolling_rate_limit_is_unavailable_with_its_wait(fake_hubspot: FakeHubSpot) -> None:
    """The fake's own limit, here 20 requests per 10 minutes: its Retry-After is longer than a worker waits."""
    fake_hubspot.rate_limit, fake_hubspot.rate_window = 20, 600
    client = hubspot()
    client.deliver([Target(lead(1))])  # 19 requests: the schema (16), the account, the contact, the note

    with pytest.raises(CrmUnavailableError, match="rate limit") as unavailable:
        client.deliver([Target(lead(n)) for n in range(2, 5)])
    assert unavailable.value.retry_after is not None
    assert 0 < unavailable.value.retry_after <= 600
    assert fake_hubspot.seen[-1].status == 429


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_on_a_post_is_retried(fake_hubspot: FakeHubSpot, status: int) -> None:
    fake_hubspot.fail(status, times=2, path=UPSERT)
    fake_hubspot.fail(status, times=2, path=NOTES_CREATE)

    answer = delivered(hubspot().deliver([Target(lead(1))])["lead-1"])

    assert [seen.status for seen in fake_hubspot.seen if seen.endpoint == "contacts_upsert"] == [status, status, 200]
    assert [seen.status for seen in fake_hubspot.seen if seen.endpoint == "notes_create"] == [status, status, 201]
    assert len(fake_hubspot.notes) == len(answer.activity_ids) == 1


def test_5xx_that_lasts_is_unavailable(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.fail(502, times=10, path=UPSERT)

    with pytest.raises(CrmUnavailableError, match="upserting contacts \\(502"):
        hubspot().deliver([Target(lead(1))])
    assert fake_hubspot.calls["contacts_upsert"] == 4


def test_an_outage_is_unavailable(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.down = True

    with pytest.raises(CrmUnavailableError, match="503"):
        hubspot().deliver([Target(lead(1))])


def test_a_slow_answer_times_out_and_is_not_repeated(fake_hubspot: FakeHubSpot, settings: Any) -> None:
    """The fake does the upsert after the client gave up, as HubSpot might: so a timed-out call is not sent
    again within the same delivery."""
    settings.CRM_SYNC_TIMEOUT = 0.5
    fake_hubspot.slow(3, path=UPSERT)

    with pytest.raises(CrmUnavailableError, match=r"did not answer upserting contacts: no answer within 0\.5 s"):
        hubspot().deliver([Target(lead(1))])
    assert fake_hubspot.calls["contacts_upsert"] == 1


def test_no_server_is_unavailable(fake_hubspot: FakeHubSpot) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    client = HubSpotClient(access_token=fake_hubspot.token, api_base=closed, timeout=5)

    with pytest.raises(CrmUnavailableError, match="could not connect"):
        client.deliver([Target(lead(1))])


def test_an_error_that_is_not_text_is_unavailable(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.fail(400, path=UPSERT, body=b"\xff\xfe\x00 not UTF-8")

    with pytest.raises(CrmUnavailableError, match="an error that is not UTF-8 text"):
        hubspot().deliver([Target(lead(1))])


@pytest.mark.parametrize("shape", ["truncated", "html", "shape"])
def test_a_malformed_answer_is_unavailable(fake_hubspot: FakeHubSpot, shape: str) -> None:
    fake_hubspot.malformed(path=UPSERT, shape=shape)

    with pytest.raises(CrmUnavailableError, match="HubSpot answered upserting contacts with a malformed response"):
        hubspot().deliver([Target(lead(1))])


def test_a_malformed_account_answer_only_loses_the_link(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.malformed(path="/account-info/", shape="shape")

    answer = delivered(hubspot().deliver([Target(lead(1))])["lead-1"])
    assert answer.record_url == ""


def test_without_the_account_details_records_have_no_link(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.account_info_status = 403

    answer = delivered(hubspot().deliver([Target(lead(1))])["lead-1"])

    assert answer.record_id
    assert answer.record_url == ""


# The allowance.


def test_api_usage_is_the_daily_allowance_last_reported(fake_hubspot: FakeHubSpot) -> None:
    client = hubspot()
    assert client.api_usage() is None

    client.deliver([Target(lead(1))])

    assert client.api_usage() == ApiUsage(used=fake_hubspot.daily_used, limit=250_000)
    assert fake_hubspot.daily_used == len(fake_hubspot.seen)
