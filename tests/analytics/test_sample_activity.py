"""Sample prospect activity (analytics/services/sample.py, ``manage.py sample_activity``): the people and journeys
it promises, scored as a rescore scores; ended sandboxes without schemas; removable, and replaced on a rerun."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from analytics.models import EVENT_NAMES, ArchivedSandbox, Event, Lead, ScoreEntry
from analytics.services.leads import rule_set_active
from analytics.services.sample import (
    PARTNERS,
    SAMPLE_DOMAIN,
    Journey,
    Planner,
    sample_activity_create,
    sample_activity_remove,
    sample_users,
)
from demoportal.core import catalogue
from demoportal.core.models import Partner, User
from sandboxes.models import Domain, Sandbox
from sandboxes.services import sandboxes_purge

pytestmark = pytest.mark.django_db

SEED, LEADS = 2, 40  # a draw with every kind of journey, partner users, free-mail people and committees


@pytest.fixture
def planned() -> tuple[list[Journey], datetime]:
    """The sample written and scored, and its plan (the same seed and time draw the same people)."""
    now = timezone.now()
    summary = sample_activity_create(leads=LEADS, seed=SEED, now=now)
    journeys = [journey for group in Planner(seed=SEED, now=now).journeys(LEADS) for journey in group]
    assert summary.people == len(journeys) == LEADS
    return journeys, now


def entries_of(email: str) -> set[str]:
    return set(ScoreEntry.objects.filter(lead__user__email=email).values_list("signal", flat=True))


def test_the_sample_is_consenting_prospects_marked_by_their_address(planned: tuple[list[Journey], datetime]) -> None:
    users = list(sample_users())

    assert len(users) == LEADS
    assert all(user.email.endswith(f".{SAMPLE_DOMAIN}") for user in users)
    assert all(user.contact_consent_at is not None and not user.is_staff for user in users)
    assert all(user.role in ("executive", "engineer", "operator", "consultant") for user in users)
    assert not any(user.has_usable_password() for user in users)
    assert Lead.objects.filter(user__in=users, rule_set=rule_set_active()).count() == LEADS


def test_committees_share_their_company_domain_and_free_mail_people_have_no_account(
    planned: tuple[list[Journey], datetime],
) -> None:
    journeys, _ = planned
    committees: dict[str, set[str]] = defaultdict(set)
    for journey in journeys:
        person = journey.person
        if not person.personal_email and not person.partner:
            committees[person.company].add(person.email.rpartition("@")[2])
    assert sum(1 for journey in journeys if journey.person.company in committees) > len(committees)  # some share
    assert all(len(domains) == 1 for domains in committees.values())

    for lead in Lead.objects.filter(user__in=sample_users()).select_related("user"):
        if lead.user.personal_email:
            assert catalogue.is_personal_email(lead.user.email)
            assert lead.account_domain == ""
            assert "free_mail" in entries_of(lead.user.email)
        else:
            assert lead.account_domain == lead.user.email.rpartition("@")[2]
    people = Lead.objects.filter(account_domain__in=[domain for domains in committees.values() for domain in domains])
    assert people.count() == sum(1 for j in journeys if j.person.company in committees)


def test_partner_users_belong_to_a_sample_partner_and_score_as_partners(
    planned: tuple[list[Journey], datetime],
) -> None:
    journeys, _ = planned
    partner_people = [journey.person.email for journey in journeys if journey.person.partner]
    assert partner_people

    for user in User.objects.filter(email__in=partner_people).select_related("partner"):
        assert user.partner is not None
        assert user.partner.slug.startswith("sample-")
        assert user.email.rpartition("@")[2] in user.partner.email_domains
        assert "partner_user" in entries_of(user.email)
        assert set(Sandbox.objects.filter(owner=user).values_list("partner", flat=True)) == {user.partner.pk}


def test_the_journeys_score_as_promised(planned: tuple[list[Journey], datetime]) -> None:
    journeys, _ = planned
    promised = {
        "quick_abandon": "quick_abandonment",
        "tour": "demo_completed",
        "explorer": "feature_depth",
        "returner": "multiple_sessions",
        "extended": "demo_extended",
    }
    for kind, signal in promised.items():
        people = [journey.person.email for journey in journeys if kind in journey.kinds]
        assert people, kind
        assert all(signal in entries_of(email) for email in people), kind

    hand_raisers = [journey.person.email for journey in journeys if "hand_raiser" in journey.kinds]
    assert hand_raisers
    # Hand-raisers are MQLs, some of them since accepted by sales (the sample's sales decisions).
    stages = set(Lead.objects.filter(user__email__in=hand_raisers).values_list("stage", flat=True))
    assert "mql" in stages
    assert stages <= {"mql", "sql", "opportunity"}
    extensions = Event.objects.filter(user__in=sample_users(), name="demo_extended")
    assert extensions.exists()
    assert not any(event.properties["by_staff"] for event in extensions)


def test_every_event_is_a_real_one_in_an_ended_sandbox_that_has_no_schema(
    planned: tuple[list[Journey], datetime],
) -> None:
    _, now = planned
    events = Event.objects.filter(user__in=sample_users()).select_related("sandbox")
    sandboxes = Sandbox.objects.filter(owner__in=sample_users())

    assert {event.name for event in events} <= set(EVENT_NAMES)
    names = {event.name for event in events}
    assert {"demo_started", "feature_viewed", "savings_calculated", "demo_completed", "demo_abandoned"} <= names
    assert names & {"pricing_requested", "sales_contact_requested", "poc_started"}
    for event in events:
        sandbox = event.sandbox
        assert sandbox is not None
        assert sandbox.owner_id == event.user_id
        assert now - timedelta(days=60) <= event.occurred_at <= now
        assert sandbox.expires_at is not None
        assert sandbox.created_at <= event.occurred_at <= sandbox.expires_at
    assert {(s.kind, s.status) for s in sandboxes} == {("demo", "expired")}
    assert all(s.ended_at is not None and s.ended_at <= now for s in sandboxes)
    assert {s.product for s in sandboxes} <= {p["key"] for p in catalogue.products()}
    assert {s.industry for s in sandboxes} <= set(catalogue.scenarios())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = ANY(%s)", [[s.schema_name for s in sandboxes]]
        )
        assert cursor.fetchone() == (0,)
    assert not Domain.objects.filter(tenant__in=sandboxes).exists()


def test_ended_sample_sandboxes_are_purged_like_any_other(planned: tuple[list[Journey], datetime]) -> None:
    _, now = planned
    count = Sandbox.objects.filter(owner__in=sample_users()).count()

    purged = sandboxes_purge(now=now + timedelta(days=90))

    assert purged == count
    assert ArchivedSandbox.objects.filter(sample=True).count() == count
    assert not Sandbox.objects.filter(owner__in=sample_users()).exists()

    removed = sample_activity_remove()  # what the purge kept of them goes with the sample

    assert removed["analytics.ArchivedSandbox"] == count
    assert not ArchivedSandbox.objects.exists()


def test_a_real_sandbox_is_archived_unmarked_and_stays_when_the_sample_is_removed() -> None:
    owner = User.objects.create_user(email="ada@northwind-steel.example", password="pw")
    ended = timezone.now() - timedelta(days=30)
    Sandbox.objects.bulk_create(
        [
            Sandbox(
                schema_name="real_one",
                slug="real-one",
                name="Real",
                industry="steel",
                owner=owner,
                status=Sandbox.Status.EXPIRED,
                ended_at=ended,
            )
        ]
    )

    assert sandboxes_purge(now=timezone.now()) == 1
    assert sample_activity_remove() == {}
    assert ArchivedSandbox.objects.get().sample is False


def test_a_second_run_replaces_the_first(planned: tuple[list[Journey], datetime]) -> None:
    events = Event.objects.filter(user__in=sample_users()).count()

    again = sample_activity_create(leads=LEADS, seed=SEED)

    assert again.removed["demoportal.User"] == LEADS
    assert sample_users().count() == LEADS
    assert Event.objects.filter(user__in=sample_users()).count() == events == again.events
    assert Lead.objects.filter(user__in=sample_users()).count() == LEADS
    assert Partner.objects.filter(slug__startswith="sample-").count() == len(PARTNERS)
    smaller = sample_activity_create(leads=10, seed=SEED + 1)
    assert sample_users().count() == smaller.people == 10


def test_remove_leaves_nothing_of_the_sample_and_everything_else() -> None:
    real = User.objects.create_user(
        email="ada@northwind-steel.example", password="pw", contact_consent_at=timezone.now()
    )
    Event.objects.create(name="page_view", user=real, occurred_at=timezone.now(), source="client")
    Lead.objects.create(user=real, account_domain="northwind-steel.example")
    models = (User, Event, Lead, ScoreEntry, Sandbox, Partner)
    before = [model.objects.count() for model in models]
    sample_activity_create(leads=15, seed=SEED)

    removed = sample_activity_remove()

    assert removed["demoportal.User"] == removed["analytics.Lead"] == 15
    assert removed["analytics.Event"] > 15
    assert [model.objects.count() for model in models] == before
    assert not User.objects.filter(email__endswith=SAMPLE_DOMAIN).exists()
    assert sample_activity_remove() == {}


def test_the_command_generates_scores_and_removes() -> None:
    out = StringIO()

    call_command("sample_activity", "--leads", "12", "--seed", "3", stdout=out)

    assert "12 sample prospects" in out.getvalue()
    assert "Scored 12 leads" in out.getvalue()
    assert sample_users().count() == 12
    out = StringIO()
    call_command("sample_activity", "--remove", stdout=out)
    assert out.getvalue().startswith("Removed: ")
    assert "12 demoportal.User" in out.getvalue()
    assert not sample_users().exists()


def test_the_command_refuses_no_leads() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        call_command("sample_activity", "--leads", "0")


def test_the_plan_is_drawn_from_the_seed() -> None:
    now = timezone.now()

    def plan(seed: int) -> list[tuple[str, list[tuple[str, object]]]]:
        journeys = [journey for group in Planner(seed=seed, now=now).journeys(20) for journey in group]
        return [(j.person.email, [(step.name, step.at) for step in j.steps]) for j in journeys]

    assert plan(1) == plan(1)
    assert plan(1) != plan(2)
