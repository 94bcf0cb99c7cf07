"""The Salesforce client (crm/sync/salesforce.py) through the real simple-salesforce, against the fake org of
tests/crm/fake_salesforce.py: what lands in the org, how many calls it takes, and what each failure becomes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from crm.sync.records import (
    Activity,
    CrmClient,
    CrmRefusedError,
    CrmUnavailableError,
    Delivered,
    LeadRecord,
    RecordError,
    Target,
)
from crm.sync.salesforce import (
    RATE_LIMIT_RETRY_AFTER,
    SLOWDOWN_PAUSE,
    TEXT_AREA_LIMIT,
    SalesforceClient,
    lead_field_map,
    lead_fields,
    lead_rating,
    task_fields,
)
from tests.crm import fake_salesforce as fake
from tests.crm.fake_salesforce import INSTANCE, FakeSalesforceOrg

TIMEOUT = 7.5


class FakeClock:
    """The client's monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> list[float]:
    """The pauses the client asked for, instead of sleeping them."""
    return []


@pytest.fixture
def client(fake_salesforce: FakeSalesforceOrg, clock: FakeClock, sleeps: list[float]) -> SalesforceClient:
    return SalesforceClient(**fake_salesforce.client_kwargs(), timeout=TIMEOUT, sleep=sleeps.append, clock=clock)


def demo(n: int, **fields: Any) -> Activity:
    values: dict[str, Any] = {
        "key": f"demo-{n}",
        "product": "BoilerOptimizer",
        "industry": "Steel",
        "started_at": datetime(2025, 3, 4, 9, 30, tzinfo=UTC),
        "ended_at": datetime(2025, 3, 4, 10, 10, tzinfo=UTC),
        "status": "completed",
        "duration_minutes": 40,
        "features": ["Combustion tuning", "Steam balance"],
        "engagement_points": 35,
        "watch_url": "",
    }
    return Activity(**(values | fields))


def lead(n: int, demos: int = 1, **fields: Any) -> LeadRecord:
    values: dict[str, Any] = {
        "key": f"lead-{n}",
        "email": f"buyer{n}@plant.example",
        "first_name": "Ada",
        "last_name": f"Buyer{n}",
        "company": "Gulf Refining",
        "title": "Energy manager",
        "role": "engineer",
        "phone": "+442079460958",
        "country": "GB",
        "stage": "mql",
        "fit_grade": "B",
        "fit_score": 40,
        "engagement_score": 47,
        "total_score": 87,
        "breakdown": ["+50 requested pricing for BoilerOptimizer on 2 Dec 14:03 (rule v3)"],
        "recommended_action": "Call within 24 hours",
        "lead_url": f"https://portal.example/admin/leads/{n}/",
        "watch_url": "",
        "activities": [demo(n * 10 + i) for i in range(demos)],
    }
    return LeadRecord(**(values | fields))


def delivered(answer: Delivered | RecordError) -> Delivered:
    assert isinstance(answer, Delivered), answer
    return answer


def refused(answer: Delivered | RecordError) -> RecordError:
    assert isinstance(answer, RecordError), answer
    return answer


# Delivering


def test_the_first_delivery_creates_the_lead_and_a_task_per_demo(client, fake_salesforce):
    record = lead(1, demos=2)

    answer = delivered(client.deliver([Target(record)])["lead-1"])

    sf_lead = fake_salesforce.lead("lead-1")
    assert sf_lead is not None
    assert answer.record_id == sf_lead["Id"]
    assert answer.record_id.startswith("00Q")
    assert answer.record_url == f"https://{INSTANCE}/lightning/r/Lead/{answer.record_id}/view"
    assert answer.note == ""
    assert sf_lead["Email"] == "buyer1@plant.example"
    assert sf_lead["Company"] == "Gulf Refining"
    assert sf_lead["Rating"] == "Hot"
    assert sf_lead["LeadSource"] == "Demo portal"
    tasks = fake_salesforce.tasks_of(answer.record_id)
    assert sorted(task["Demo_Portal_Activity_Id__c"] for task in tasks) == ["demo-10", "demo-11"]
    assert answer.activity_ids == {task["Demo_Portal_Activity_Id__c"]: task["Id"] for task in tasks}
    assert tasks[0]["Subject"] == "Demo: BoilerOptimizer (Steel)"
    assert tasks[0]["ActivityDate"] == "2025-03-04"
    assert tasks[0]["Status"] == "Completed"
    assert (fake_salesforce.count("login"), fake_salesforce.count("lead_upsert")) == (1, 1)
    assert fake_salesforce.count("task_upsert") == 1


def test_delivering_again_updates_what_the_first_delivery_made_and_creates_nothing(client, fake_salesforce):
    first = delivered(client.deliver([Target(lead(1, demos=2))])["lead-1"])
    changed = lead(1, demos=2, stage="lead", engagement_score=5, title="Plant director")

    second = delivered(client.deliver([Target(changed, first.record_id, first.activity_ids)])["lead-1"])

    assert second.record_id == first.record_id
    assert second.activity_ids == first.activity_ids
    assert fake_salesforce.created == {"Lead": 1, "Task": 2, "Contact": 0}
    assert fake_salesforce.leads[first.record_id]["Rating"] == "Cold"
    assert fake_salesforce.leads[first.record_id]["Title"] == "Plant director"
    assert fake_salesforce.count("login") == 1  # the session is kept between deliveries


def test_a_running_demo_is_a_task_in_progress_and_then_completed(client, fake_salesforce):
    running = demo(10, ended_at=None, status="running", watch_url="https://t.example/watch/10")
    client.deliver([Target(lead(1, activities=[running]))])
    task = fake_salesforce.task("demo-10")
    assert task is not None
    assert task["Status"] == "In Progress"
    assert "Watch live: https://t.example/watch/10" in task["Description"]

    client.deliver([Target(lead(1, activities=[demo(10)]))])

    assert fake_salesforce.task("demo-10")["Status"] == "Completed"
    assert fake_salesforce.created["Task"] == 1


def test_nothing_to_deliver_calls_nothing(client, fake_salesforce):
    assert client.deliver([]) == {}
    assert fake_salesforce.calls == []


def test_a_record_given_twice_is_delivered_once_as_its_last_version(client, fake_salesforce):
    answers = client.deliver([Target(lead(1, title="Old")), Target(lead(1, title="New"))])

    assert list(answers) == ["lead-1"]
    assert fake_salesforce.created["Lead"] == 1
    assert fake_salesforce.lead("lead-1")["Title"] == "New"


def test_leads_go_at_most_200_to_a_call(client, fake_salesforce):
    answers = client.deliver([Target(lead(n)) for n in range(450)])

    assert all(isinstance(answer, Delivered) for answer in answers.values())
    assert len(answers) == 450
    assert fake_salesforce.sizes("lead_upsert") == [200, 200, 50]
    assert fake_salesforce.sizes("task_upsert") == [200, 200, 50]
    assert fake_salesforce.count("login") == 1
    assert fake_salesforce.created == {"Lead": 450, "Task": 450, "Contact": 0}


def test_tasks_go_at_most_200_to_a_call(client, fake_salesforce):
    answers = client.deliver([Target(lead(n, demos=2)) for n in range(150)])

    assert fake_salesforce.sizes("lead_upsert") == [150]
    assert fake_salesforce.sizes("task_upsert") == [200, 100]
    assert all(len(delivered(answer).activity_ids) == 2 for answer in answers.values())


def test_every_call_the_login_included_has_the_timeout(client, fake_salesforce):
    fake_salesforce.duplicate_rule = True
    fake_salesforce.add_lead(Email="buyer2@plant.example", LastName="Old", Company="Gulf")

    client.deliver([Target(lead(1)), Target(lead(2))])

    kinds = {call.kind for call in fake_salesforce.calls}
    assert kinds == {"login", "lead_upsert", "query", "lead_patch", "task_upsert"}
    assert {call.timeout for call in fake_salesforce.calls} == {TIMEOUT}


# The mapping


def test_lead_fields_carry_the_contact_the_score_and_the_links():
    record = lead(
        1,
        watch_url="https://t.example/watch/3",
        breakdown=["+50 requested pricing", "+10 finished the tour"],
        activities=[demo(1), demo(2, product="ThermalCommand")],
    )

    fields = lead_fields(record)

    assert fields["Email"] == "buyer1@plant.example"
    assert (fields["FirstName"], fields["LastName"], fields["Company"]) == ("Ada", "Buyer1", "Gulf Refining")
    assert (fields["Title"], fields["Phone"], fields["Country"]) == ("Energy manager", "+442079460958", "GB")
    assert fields["LeadSource"] == "Demo portal"
    description = str(fields["Description"])
    assert description.startswith("Demo portal score: 87 (fit B 40, engagement 47)")
    assert "Recommended action: Call within 24 hours" in description
    assert "Products tried: BoilerOptimizer, ThermalCommand" in description
    assert "+50 requested pricing\n+10 finished the tour" in description
    assert "Lead in the demo portal: https://portal.example/admin/leads/1/" in description
    assert description.endswith("Watch live: https://t.example/watch/3")


def test_empty_contact_details_are_left_out_so_a_reps_entry_survives():
    fields = lead_fields(lead(1, phone="", title="", first_name="", country=""))

    assert not {"Phone", "Title", "FirstName", "Country"} & set(fields)
    assert fields["LastName"] == "Buyer1"


def test_long_values_are_cut_to_the_fields_length():
    fields = lead_fields(lead(1, first_name="A" * 100, company="C" * 300))

    assert fields["FirstName"] == "A" * 40
    assert fields["Company"] == "C" * 255


@pytest.mark.parametrize(
    ("stage", "engagement", "rating"),
    [
        ("mql", 0, "Hot"),
        ("sql", 0, "Hot"),
        ("opportunity", 0, "Hot"),
        ("lead", 30, "Warm"),
        ("lead", 29, "Cold"),
        ("recycled", 80, "Cold"),
        ("disqualified", 80, "Cold"),
    ],
)
def test_the_rating_follows_the_stage_and_engagement(stage, engagement, rating):
    record = lead(1, stage=stage, engagement_score=engagement)
    assert lead_rating(record) == rating
    assert lead_fields(record)["Rating"] == rating


def test_a_long_breakdown_is_cut_to_32000_characters_keeping_the_newest_reasons_and_the_links():
    reasons = [f"+{n} reason number {n} " + "x" * 80 for n in range(2000, 0, -1)]  # newest first

    description = str(lead_fields(lead(1, breakdown=reasons, watch_url="https://t.example/w"))["Description"])

    assert len(description) <= TEXT_AREA_LIMIT
    assert reasons[0] in description
    assert reasons[-1] not in description
    assert "… and " in description
    assert description.endswith("Watch live: https://t.example/w")


def test_task_fields_describe_the_demo():
    fields = task_fields(demo(1, engagement_points=12), who_id="00Qxx", hot=False)

    assert fields["WhoId"] == "00Qxx"
    assert fields["Priority"] == "Normal"
    assert "Features explored: Combustion tuning, Steam balance" in fields["Description"]
    assert "Duration: 40 min" in fields["Description"]
    assert "Engagement points: 12" in fields["Description"]
    assert "Industry: Steel" in fields["Description"]
    assert task_fields(demo(1), who_id="00Qxx", hot=True)["Priority"] == "High"


def test_the_field_map_setting_adds_and_removes_fields():
    overrides = {"Demo_Score__c": "total_score", "Rating": None, "Country": None, "CountryCode": "country"}
    field_map = lead_field_map(overrides)

    fields = lead_fields(lead(1), field_map)

    assert fields["Demo_Score__c"] == 87
    assert fields["CountryCode"] == "GB"
    assert "Rating" not in fields
    assert "Country" not in fields


def test_a_field_map_with_an_unknown_source_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="SALESFORCE_FIELD_MAP maps Demo_Score__c to 'score'"):
        lead_field_map({"Demo_Score__c": "score"})


def test_a_field_the_org_does_not_have_is_refused(fake_salesforce):
    client = SalesforceClient(**fake_salesforce.client_kwargs(), field_map={"Demo_Score__c": "total_score"})

    with pytest.raises(CrmRefusedError, match="INVALID_FIELD: No such column 'Demo_Score__c'"):
        client.deliver([Target(lead(1))])

    fake_salesforce.extra_lead_fields.add("Demo_Score__c")
    delivered(client.deliver([Target(lead(1))])["lead-1"])
    assert fake_salesforce.lead("lead-1")["Demo_Score__c"] == 87


def test_no_client_without_a_username(settings):
    settings.SALESFORCE_USERNAME = ""
    assert SalesforceClient.from_settings() is None


def test_the_client_from_settings_delivers_to_the_configured_org(settings, fake_salesforce):
    for name, value in fake_salesforce.settings().items():
        setattr(settings, name, value)
    settings.CRM_SYNC_TIMEOUT = 3.0
    settings.SALESFORCE_FIELD_MAP = {"Demo_Stage__c": "stage"}
    fake_salesforce.extra_lead_fields.add("Demo_Stage__c")
    client = SalesforceClient.from_settings()
    assert client is not None

    delivered(client.deliver([Target(lead(1))])["lead-1"])

    assert fake_salesforce.lead("lead-1")["Demo_Stage__c"] == "mql"
    assert {call.timeout for call in fake_salesforce.calls} == {3.0}


# Sessions and logins


def test_an_expired_session_logs_in_again_and_repeats_the_call(client, fake_salesforce):
    client.deliver([Target(lead(1))])
    fake_salesforce.expire_sessions()

    delivered(client.deliver([Target(lead(1, title="Plant director"))])["lead-1"])

    assert fake_salesforce.count("login") == 2
    assert fake_salesforce.lead("lead-1")["Title"] == "Plant director"
    assert [call.status for call in fake_salesforce.calls if call.kind == "lead_upsert"] == [200, 401, 200]


def test_a_session_refused_again_after_a_new_login_is_refused(client, fake_salesforce):
    fake_salesforce.fail_next(fake.EXPIRED_SESSION, times=2)

    with pytest.raises(CrmRefusedError, match="INVALID_SESSION_ID"):
        client.deliver([Target(lead(1))])

    assert fake_salesforce.count("login") == 2  # one new login, not simple-salesforce's four


def test_a_new_login_that_fails_is_refused(client, fake_salesforce):
    client.deliver([Target(lead(1))])
    fake_salesforce.expire_sessions()
    fake_salesforce.refuse_logins = True

    with pytest.raises(CrmRefusedError, match="INVALID_LOGIN"):
        client.deliver([Target(lead(1))])


def test_wrong_credentials_are_refused(fake_salesforce):
    kwargs = fake_salesforce.client_kwargs() | {"security_token": "OLDTOKEN"}

    with pytest.raises(CrmRefusedError, match="INVALID_LOGIN"):
        SalesforceClient(**kwargs).deliver([Target(lead(1))])

    assert fake_salesforce.leads == {}


@pytest.mark.parametrize(
    "outage", [fake.UNAVAILABLE, fake.SERVER_ERROR, fake.NOT_JSON, fake.READ_TIMEOUT, fake.CONNECT_TIMEOUT]
)
def test_a_login_that_gets_no_answer_is_unavailable(client, fake_salesforce, outage):
    """503 in plain text, a 500 page that is no SOAP fault, a 200 that is not XML, no answer: all pass."""
    fake_salesforce.down = outage

    with pytest.raises(CrmUnavailableError, match="login"):
        client.deliver([Target(lead(1))])

    fake_salesforce.down = None
    delivered(client.deliver([Target(lead(1))])["lead-1"])


# Whole calls that fail


@pytest.mark.parametrize(
    "fault", [fake.SERVER_ERROR, fake.UNAVAILABLE, fake.READ_TIMEOUT, fake.CONNECT_TIMEOUT, fake.CONNECTION_ERROR]
)
def test_a_server_error_or_no_answer_is_unavailable(client, fake_salesforce, fault):
    fake_salesforce.fail_next(fault)

    with pytest.raises(CrmUnavailableError) as raised:
        client.deliver([Target(lead(1))])

    assert raised.value.retry_after is None  # the outbox's own backoff
    assert fake_salesforce.leads == {}
    delivered(client.deliver([Target(lead(1))])["lead-1"])


def test_a_failure_between_the_leads_and_their_tasks_is_made_good_by_the_next_delivery(client, fake_salesforce):
    fake_salesforce.fail_next(fake.SERVER_ERROR, on="task_upsert")

    with pytest.raises(CrmUnavailableError, match="HTTP 500"):
        client.deliver([Target(lead(1))])
    answer = delivered(client.deliver([Target(lead(1))])["lead-1"])

    assert fake_salesforce.created == {"Lead": 1, "Task": 1, "Contact": 0}
    assert list(answer.activity_ids) == ["demo-10"]


def test_an_outage_fails_every_delivery_until_it_ends(client, fake_salesforce):
    client.deliver([Target(lead(1))])
    fake_salesforce.down = fake.UNAVAILABLE

    for _ in range(3):
        with pytest.raises(CrmUnavailableError, match="HTTP 503"):
            client.deliver([Target(lead(1))])

    fake_salesforce.down = None
    delivered(client.deliver([Target(lead(1))])["lead-1"])


def test_request_limit_exceeded_waits_15_minutes_without_calling(client, fake_salesforce, clock):
    fake_salesforce.fail_next(fake.REQUEST_LIMIT)

    with pytest.raises(CrmUnavailableError, match="REQUEST_LIMIT_EXCEEDED") as raised:
        client.deliver([Target(lead(1))])
    assert raised.value.retry_after == RATE_LIMIT_RETRY_AFTER

    calls = len(fake_salesforce.calls)
    clock.now += RATE_LIMIT_RETRY_AFTER - 60
    with pytest.raises(CrmUnavailableError) as raised:
        client.deliver([Target(lead(1))])
    assert raised.value.retry_after == pytest.approx(60)
    assert len(fake_salesforce.calls) == calls

    clock.now += 61
    delivered(client.deliver([Target(lead(1))])["lead-1"])


def test_the_orgs_spent_allowance_is_unavailable(client, fake_salesforce):
    fake_salesforce.api_used = fake_salesforce.api_limit

    with pytest.raises(CrmUnavailableError) as raised:
        client.deliver([Target(lead(1))])

    assert raised.value.retry_after == RATE_LIMIT_RETRY_AFTER


def test_another_refusal_of_the_whole_call_is_refused(client, fake_salesforce):
    """A missing external-id field (404) is the org's configuration: a person must act."""
    client.task_id_field = "Missing_Field__c"

    with pytest.raises(CrmRefusedError, match="Provided external ID field does not exist"):
        client.deliver([Target(lead(1))])


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (fake.NOT_JSON, "not JSON"),
        (fake.WRONG_SHAPE, "unexpected shape"),
        (fake.JSON_NUMBER, "unexpected shape"),
        (fake.SHORT_RESULT, r"unexpected shape \(1 results, 2 expected\)"),
    ],
)
def test_an_answer_we_cannot_read_is_unavailable(client, fake_salesforce, fault, message):
    fake_salesforce.fail_next(fault)

    with pytest.raises(CrmUnavailableError, match=message):
        client.deliver([Target(lead(1)), Target(lead(2))])


@pytest.mark.parametrize("fault", [fake.WRONG_SHAPE, fake.NOT_JSON])
def test_a_query_answer_we_cannot_read_is_unavailable(client, fake_salesforce, fault):
    fake_salesforce.reject("lead-1", "DUPLICATES_DETECTED", "Use one of these records?")
    fake_salesforce.fail_next(fault, on="query")

    with pytest.raises(CrmUnavailableError, match="the search"):
        client.deliver([Target(lead(1))])


# One record refused


def test_a_record_salesforce_refuses_fails_alone(client, fake_salesforce):
    answers = client.deliver([Target(lead(1)), Target(lead(2, email="not-an-email")), Target(lead(3))])

    error = refused(answers["lead-2"])
    assert error.message.startswith("INVALID_EMAIL_ADDRESS: Email: invalid email address: not-an-email")
    assert error.retryable is False
    delivered(answers["lead-1"])
    delivered(answers["lead-3"])
    assert fake_salesforce.task("demo-20") is None
    assert fake_salesforce.sizes("task_upsert") == [2]


def test_a_locked_row_is_worth_retrying(client, fake_salesforce):
    fake_salesforce.reject("lead-1", "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record")

    error = refused(client.deliver([Target(lead(1))])["lead-1"])

    assert error.retryable is True


def test_a_refused_task_fails_its_lead_only(client, fake_salesforce):
    fake_salesforce.reject("demo-21", "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Subject is too vague")

    answers = client.deliver([Target(lead(1)), Target(lead(2, demos=2))])

    error = refused(answers["lead-2"])
    assert "its demo demo-21 is not: FIELD_CUSTOM_VALIDATION_EXCEPTION: Subject is too vague" in error.message
    assert error.retryable is False
    delivered(answers["lead-1"])
    assert fake_salesforce.task("demo-20") is not None  # the other demo of the same lead is there


# Duplicates and conversions


def test_a_lead_blocked_by_a_duplicate_rule_adopts_the_existing_lead(client, fake_salesforce):
    fake_salesforce.duplicate_rule = True
    email = "o'brien+demo@plant.example"  # a quote: the SOQL must escape it
    existing = fake_salesforce.add_lead(Email=email.upper(), LastName="OBrien", Company="Gulf", LeadSource="Web")

    answer = delivered(client.deliver([Target(lead(1, email=email))])["lead-1"])

    assert answer.record_id == existing
    assert "adopted the existing lead" in answer.note
    assert len(fake_salesforce.leads) == 1
    assert fake_salesforce.leads[existing]["Demo_Portal_Id__c"] == "lead-1"
    assert fake_salesforce.leads[existing]["Rating"] == "Hot"
    assert [task["Demo_Portal_Activity_Id__c"] for task in fake_salesforce.tasks_of(existing)] == ["demo-10"]

    again = delivered(client.deliver([Target(lead(1, email=email))])["lead-1"])
    assert (again.record_id, again.note) == (existing, "")
    assert fake_salesforce.count("query") == 1


def test_a_duplicate_that_is_another_portal_lead_is_not_taken_over(client, fake_salesforce):
    fake_salesforce.duplicate_rule = True
    other = fake_salesforce.add_lead(
        Email="buyer1@plant.example", LastName="Twin", Company="Gulf", Demo_Portal_Id__c="lead-99"
    )

    error = refused(client.deliver([Target(lead(1))])["lead-1"])

    assert f"matched lead {other}, which is already the portal's lead-99" in error.message
    assert error.retryable is False
    assert fake_salesforce.leads[other]["Demo_Portal_Id__c"] == "lead-99"


def test_a_duplicate_that_is_not_a_lead_is_refused(client, fake_salesforce):
    fake_salesforce.reject("lead-1", "DUPLICATES_DETECTED", "Use one of these records?")

    error = refused(client.deliver([Target(lead(1))])["lead-1"])

    assert "no lead has its e-mail" in error.message
    assert error.retryable is False


def test_a_duplicate_that_cannot_be_adopted_is_refused(client, fake_salesforce):
    fake_salesforce.duplicate_rule = True
    oldest = fake_salesforce.add_lead(Email="buyer1@plant.example", LastName="One", Company="Gulf")
    fake_salesforce.add_lead(Email="buyer1@plant.example", LastName="Two", Company="Gulf")

    error = refused(client.deliver([Target(lead(1))])["lead-1"])

    assert f"could not adopt the existing lead {oldest}: DUPLICATES_DETECTED" in error.message
    assert fake_salesforce.lead("lead-1") is None


def test_a_duplicate_of_a_converted_lead_puts_the_demos_on_its_contact(client, fake_salesforce):
    old = fake_salesforce.add_lead(Email="buyer1@plant.example", LastName="Old", Company="Gulf")
    contact = fake_salesforce.convert(old)
    fake_salesforce.reject("lead-1", "DUPLICATES_DETECTED", "Use one of these records?")

    answer = delivered(client.deliver([Target(lead(1))])["lead-1"])

    assert answer.record_id == contact
    assert answer.record_url == f"https://{INSTANCE}/lightning/r/Contact/{contact}/view"
    assert [task["Id"] for task in fake_salesforce.tasks_of(contact)] == list(answer.activity_ids.values())


def test_a_converted_lead_gets_its_demos_on_the_contact_and_is_not_made_again(client, fake_salesforce):
    first = delivered(client.deliver([Target(lead(1))])["lead-1"])
    contact = fake_salesforce.convert("lead-1")

    answer = delivered(client.deliver([Target(lead(1, demos=2), first.record_id, first.activity_ids)])["lead-1"])

    assert answer.record_id == contact
    assert answer.record_url == f"https://{INSTANCE}/lightning/r/Contact/{contact}/view"
    assert f"the lead {first.record_id} was converted" in answer.note
    assert fake_salesforce.created == {"Lead": 1, "Task": 2, "Contact": 1}
    assert sorted(task["Demo_Portal_Activity_Id__c"] for task in fake_salesforce.tasks_of(contact)) == [
        "demo-10",
        "demo-11",
    ]
    assert answer.activity_ids["demo-10"] == first.activity_ids["demo-10"]


def test_converted_leads_of_a_batch_are_found_in_one_query(client, fake_salesforce):
    client.deliver([Target(lead(n)) for n in range(3)])
    for n in range(3):
        fake_salesforce.convert(f"lead-{n}")

    answers = client.deliver([Target(lead(n)) for n in range(3)])

    assert all(delivered(answer).record_id.startswith("003") for answer in answers.values())
    assert fake_salesforce.count("query") == 1


def test_a_lead_called_converted_that_is_not_is_refused(client, fake_salesforce):
    fake_salesforce.reject("lead-1", "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")

    error = refused(client.deliver([Target(lead(1))])["lead-1"])

    assert "no converted lead with a contact has our id" in error.message
    assert error.retryable is False


# The API allowance


def test_api_usage_is_what_salesforce_last_reported(client, fake_salesforce):
    assert client.api_usage() is None
    fake_salesforce.api_used, fake_salesforce.api_limit = 1200, 5000

    client.deliver([Target(lead(1))])

    usage = client.api_usage()
    assert usage is not None
    assert (usage.used, usage.limit) == (1202, 5000)  # the lead call and the task call
    assert client.pause_seconds() == 0


def test_past_the_slowdown_mark_every_call_waits(client, fake_salesforce, sleeps):
    fake_salesforce.api_used, fake_salesforce.api_limit = 850, 1000

    client.deliver([Target(lead(1))])  # usage is known after the first call: the task call waits
    assert sleeps == [SLOWDOWN_PAUSE]
    assert client.pause_seconds() == SLOWDOWN_PAUSE

    client.deliver([Target(lead(2))])
    assert sleeps == [SLOWDOWN_PAUSE] * 3


def test_at_95_percent_the_client_stops_before_the_next_call(client, fake_salesforce, clock):
    fake_salesforce.api_used, fake_salesforce.api_limit = 949, 1000

    with pytest.raises(CrmUnavailableError, match="950 of 1000") as raised:
        client.deliver([Target(lead(1))])  # the lead call reports 950: the task call is not made

    assert raised.value.retry_after == RATE_LIMIT_RETRY_AFTER
    assert (fake_salesforce.count("lead_upsert"), fake_salesforce.count("task_upsert")) == (1, 0)
    with pytest.raises(CrmUnavailableError):
        client.pause_seconds()

    clock.now += RATE_LIMIT_RETRY_AFTER  # the allowance is rolling: after a while one call may learn it again
    fake_salesforce.api_used = 100
    delivered(client.deliver([Target(lead(1))])["lead-1"])
    assert client.pause_seconds() == 0


def test_record_url_needs_the_instance_and_names_the_object(client):
    assert client.record_url("00Q5g0000000001AAA") == ""
    client.deliver([Target(lead(1))])

    assert client.record_url("0035g0000000009AAA") == f"https://{INSTANCE}/lightning/r/Contact/0035g0000000009AAA/view"
    assert client.record_url("a0X5g0000000009AAA") == f"https://{INSTANCE}/lightning/r/a0X5g0000000009AAA/view"


def test_the_client_is_a_crm_client(client):
    crm_client: CrmClient = client  # mypy checks the protocol
    assert (crm_client.name, crm_client.batch_size) == ("salesforce", 200)


def test_the_fake_org_answers_other_threads_too(client, fake_salesforce):
    """An in-process worker delivers from its own thread: responses patches requests for the whole process."""
    answers: dict[str, Delivered | RecordError] = {}
    worker = threading.Thread(target=lambda: answers.update(client.deliver([Target(lead(1))])))

    worker.start()
    worker.join(timeout=30)

    delivered(answers["lead-1"])
    assert fake_salesforce.lead("lead-1") is not None
