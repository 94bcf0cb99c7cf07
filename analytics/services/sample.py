"""Sample prospect activity, for demonstrating leads and dashboards and for benchmarks
(``manage.py sample_activity``).

Who: consenting prospects (the only users who are leads) in companies of two to six people — buying
committees sharing their company's e-mail domain, in one of the five industries — plus free-mail
individuals and a few partner users. What they did: demos of the four products over the last 60 days,
as the portal records them (the event names of ``analytics.models.EVENT_NAMES`` with the properties the
real code writes): explorers who open many features and reach value moments, tour completers, quick
abandoners (gone within five minutes; the system records ``demo_abandoned`` half an hour later),
returners (a second visit after more than 30 minutes), hand-raisers (pricing, a sales call, a proof of
concept) and prospects who extend their demo. Every demo has its sandbox: an ended (``expired``) row
with its product, scenario and owner, and no schema, as every ended sandbox.

**The marker.** Every sample user's e-mail address is at a subdomain of ``sample.example`` (``.example``
is reserved, RFC 2606; no real prospect has it), e.g. ``jane.doe@northwind-steel.sample.example``; free-mail
people are at ``outlook.sample.example`` and the like; sample partners and sandboxes have slugs starting
``sample-``. Company names are ordinary ones. ``sample_activity_remove`` deletes exactly that: the sample
users, their events, leads (with ledger and stage audit), sandboxes and the sample partners. One thing it
cannot reach: on a system whose beat runs, the hourly purge archives sandboxes that ended more than
``SANDBOX_RETENTION_DAYS`` ago, sample ones too, and an ``ArchivedSandbox`` carries no marker.

**Speed.** Rows are written with COPY (``analytics.services.bulk``), a few thousand people at a time, in
one transaction: 100,000 leads with about a million events take about a minute. Then every sample lead is
scored under the rule set in use by the rescore's own batches (``analytics.services.rules.leads_rescore``),
not event by event, and no one is notified.

The plan (``Planner``) is pure and seeded: the same seed and ``now`` give the same people and events.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.text import slugify
from psycopg import sql

from analytics.models import (
    ArchivedSandbox,
    DemoSource,
    DemoStale,
    DemoSummary,
    Event,
    Lead,
    LeadStageChange,
    ScoreEntry,
)
from analytics.services.bulk import copy_rows, execute, objects_copy, rows_delete
from analytics.services.leads import stage_change_of
from analytics.services.rollups import BULK_BATCH, days_rollup, leads_snapshot, rollups_refresh
from analytics.services.rules import leads_rescore
from demoportal.core import catalogue
from demoportal.core.models import Partner, User
from sandboxes.models import ENDED_STATUSES, Sandbox

SAMPLE_DOMAIN = "sample.example"
SAMPLE_SLUG_PREFIX = "sample-"
WINDOW = timedelta(days=60)
CHUNK = 5000  # people written per round of COPYs
ROLES = ("executive", "engineer", "operator", "consultant")

# Names: ordinary, international; companies are a stem, sometimes a region, and a trade word of their industry.
FIRST_NAMES = (
    "Ada", "Alejandro", "Amara", "Anna", "Arjun", "Astrid", "Ben", "Carlos", "Chen", "Chloe", "Daniel", "Elena",
    "Emeka", "Emma", "Fatima", "Felix", "Grace", "Hannah", "Hiroshi", "Ines", "Ivan", "Jakob", "James", "Jana",
    "Jin", "Joao", "Julia", "Kenji", "Lars", "Laura", "Leila", "Lucas", "Mara", "Maria", "Mateo", "Mei", "Min-jun",
    "Nadia", "Noah", "Olga", "Omar", "Pablo", "Priya", "Rafael", "Rahul", "Rosa", "Sam", "Sara", "Sven", "Tariq",
    "Thomas", "Tomasz", "Valentina", "Victor", "Wei", "Yara", "Yusuf", "Zofia",
)  # fmt: skip
LAST_NAMES = (
    "Ahmed", "Andersen", "Becker", "Bianchi", "Brown", "Chen", "Costa", "Dubois", "Eriksson", "Fischer", "Garcia",
    "Gupta", "Hansen", "Ito", "Jansen", "Kaur", "Kim", "Kowalski", "Lee", "Lopez", "Martin", "Meyer", "Moreau",
    "Müller", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Peeters", "Rossi", "Santos", "Schmidt",
    "Silva", "Singh", "Smith", "Suzuki", "Tanaka", "Taylor", "Van Dijk", "Wagner", "Walker", "Wang", "Weber",
    "Williams", "Wilson", "Yilmaz", "Zhang",
)  # fmt: skip
COMPANY_STEMS = (
    "Northwind", "Bayview", "Redstone", "Ironbridge", "Lakeshore", "Summit", "Granite Peak", "Blue River", "Harbor",
    "Westfield", "Eastgate", "Silverline", "Oakridge", "Stonehaven", "Clearwater", "Highland", "Riverside", "Coastal",
    "Meridian", "Keystone", "Pinecrest", "Falcon", "Sterling", "Crescent", "Horizon", "Copperfield", "Ashford",
    "Brightwater", "Cedar Point", "Delta", "Evergreen", "Fairport", "Glenmore", "Hawthorne", "Juniper", "Kingsbridge",
    "Larchmont", "Millbrook", "Newhaven", "Orion", "Prairie", "Quarry Hill", "Rockport", "Saltmarsh", "Tidewater",
    "Union", "Valley Forge", "Windmere", "York", "Zenith", "Alder", "Beacon", "Caldera", "Dunmore", "Elmstead",
    "Foxglove", "Greystone", "Hollins", "Ivywood", "Jasper",
)  # fmt: skip
REGIONS = (
    "Gulf", "Midland", "Pacific", "Nordic", "Atlantic", "Alpine", "Baltic", "Central", "Northern", "Southern",
    "Western", "Eastern", "Continental", "Iberian", "Rhine", "Danube", "Great Lakes", "Prairie", "Andean", "Coastal",
)  # fmt: skip
TRADES = {
    "oil_gas": ("Refining", "Petroleum", "Energy", "Petrochemicals"),
    "chemicals": ("Chemicals", "Polymers", "Specialty Chemicals", "Chemical Works"),
    "steel": ("Steel", "Metals", "Rolling Mills", "Forge"),
    "food_beverage": ("Foods", "Dairy", "Beverages", "Brewing"),
    "cement": ("Cement", "Building Materials", "Aggregates", "Lime"),
}
# Which product a company of an industry looks at first (unlisted products: weight 10).
PRODUCT_WEIGHTS = {
    "oil_gas": {"thermalcommand": 40, "boileroptimizer": 20, "wasteheatrecovery": 20, "emissionsguardian": 20},
    "chemicals": {"thermalcommand": 15, "boileroptimizer": 35, "wasteheatrecovery": 30, "emissionsguardian": 20},
    "steel": {"thermalcommand": 45, "boileroptimizer": 10, "wasteheatrecovery": 25, "emissionsguardian": 20},
    "food_beverage": {"thermalcommand": 10, "boileroptimizer": 50, "wasteheatrecovery": 30, "emissionsguardian": 10},
    "cement": {"thermalcommand": 35, "boileroptimizer": 10, "wasteheatrecovery": 25, "emissionsguardian": 30},
}
JOB_TITLES = {
    "executive": (
        "Plant Manager", "VP Operations", "Director of Energy", "Chief Operating Officer", "Head of Sustainability",
    ),
    "engineer": (
        "Process Engineer", "Senior Process Engineer", "Energy Engineer", "Combustion Engineer", "Reliability Engineer",
    ),
    "operator": ("Control Room Operator", "Shift Supervisor", "Boiler Operator", "Panel Operator"),
    "consultant": ("Energy Consultant", "Process Consultant", "Decarbonisation Advisor"),
}  # fmt: skip
ROLE_WEIGHTS = (20, 40, 25, 15)
FREE_MAIL = tuple(f"{name}.{SAMPLE_DOMAIN}" for name in ("outlook", "yahoo", "hotmail", "gmx", "live"))
PARTNERS = (
    ("Heatwise Integration", "heatwise-integration"),
    ("Kilnworks Engineering Services", "kilnworks"),
    ("Combustion Partners Group", "combustion-partners"),
    ("Northern Process Automation", "northern-process-automation"),
    ("Steamline Consulting", "steamline"),
    ("Ember Systems Integrators", "ember-systems"),
    ("Flux Energy Advisors", "flux-energy"),
    ("Pinnacle Controls", "pinnacle-controls"),
)
COMPANY_SIZES = (("", 35), ("1-249", 20), ("250-999", 20), ("1000-4999", 15), ("5000+", 10))
OTHER_COUNTRIES = ("CN", "ZA", "NG", "EG", "TR", "AR", "CL", "ID", "VN", "TH", "PH", "MY", "PK", "KZ")
# What a sandbox's pages send (static/js, templates/sandbox): features seen, and the value moments.
PAGE_FEATURES = (
    "kpis", "asset_overview", "events", "savings_calculator", "asset_values", "asset_trend", "asset_alarms", "o2_trim",
    "history",
)  # fmt: skip
VALUE_MOMENTS = ("savings_calculated", "optimization_applied", "alert_acknowledged", "report_generated")
TOUR_STEPS = (
    ("welcome", "feature_viewed"),
    ("history", "feature_viewed"),
    ("trend", "feature_viewed"),
    ("alarms", "anomaly_detected"),
    ("o2-trim", "feature_viewed"),
    ("savings", "recommendation_viewed"),
    ("report", "feature_viewed"),
    ("next-steps", "feature_viewed"),
)
# The page a tour step takes the prospect to (demoportal/urls_sandbox.py), where it is not the one before.
TOUR_STEP_PAGES = {"history": "/assets/{tag}/", "o2-trim": "/assets/{tag}/o2-trim", "savings": "/assets/{tag}/savings"}
HAND_RAISES = (("pricing_requested", 50), ("sales_contact_requested", 35), ("poc_started", 15))
SERVER_EVENTS = frozenset(
    {"demo_started", "demo_completed", "demo_abandoned", "demo_extended", "pricing_requested", "poc_started"}
    | {"sales_contact_requested", *VALUE_MOMENTS}
)
IDLE_BEFORE_ABANDONED = timedelta(minutes=30)  # analytics.services.events.ABANDONED_AFTER, and beat's five minutes


@dataclass
class Person:
    email: str
    first_name: str
    last_name: str
    company: str
    job_title: str
    role: str
    country: str
    company_size: str = ""
    personal_email: bool = False
    partner: str = ""  # a sample partner's slug
    joined_at: datetime | None = None
    user: User | None = None  # once written


@dataclass
class Demo:
    """One product demo: its sandbox, from start to expiry."""

    person: Person
    slug: str
    product: str
    industry: str
    started_at: datetime
    seed: int
    extensions: int = 0
    purpose: str = Sandbox.Purpose.EVALUATION
    customer_company: str = ""
    sandbox: Sandbox | None = None  # once written

    @property
    def expires_at(self) -> datetime:
        return self.started_at + timedelta(hours=settings.SANDBOX_LIFETIME_HOURS * (1 + self.extensions))


@dataclass
class Step:
    """One event of a journey."""

    demo: Demo
    name: str
    at: datetime
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class Journey:
    """One person's activity, and what kind of prospect it shows (``explorer``, ``tour``, ``tour_left`` (left the
    tour on the way), ``quick_abandon``,
    ``browser``, ``returner``, ``extended``, ``hand_raiser``)."""

    person: Person
    demos: list[Demo] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)


class Planner:
    """Who the sample people are and what they did, drawn from ``seed``; pure (no database)."""

    def __init__(self, *, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)  # noqa: S311  # sample data, not secrets
        self.now = now
        self.industries = sorted(catalogue.scenarios())
        self.products = [item["key"] for item in catalogue.products()]
        self.assets = {key: scenario.assets for key, scenario in catalogue.scenarios().items()}
        self.companies: set[str] = set()
        self.emails: set[str] = set()
        self.slugs = 0

    def journeys(self, count: int) -> Iterator[list[Journey]]:
        """``count`` people's journeys, a company (or an individual) at a time."""
        left = count
        while left > 0:
            draw = self.rng.random()  # of the people: about 1.5 % partner users, 15 % free-mail, the rest in companies
            if draw < 0.035:
                group = [self.partner_journey()]
            elif draw < 0.385:
                group = [self.free_mail_journey()]
            else:
                group = self.company_journeys(min(left, self.rng.choices((2, 3, 4, 5, 6), (30, 30, 20, 12, 8))[0]))
            left -= len(group)
            yield group

    # People

    def name(self) -> tuple[str, str]:
        return self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)

    def email(self, first: str, last: str, domain: str, *, numbered: bool = False) -> str:
        local = f"{slugify(first)}.{slugify(last).replace('-', '')}"
        if numbered:
            local += f".{self.rng.randint(10, 9999)}"
        candidate, n = f"{local}@{domain}", 1
        while candidate in self.emails:
            n += 1
            candidate = f"{local}{n}@{domain}"
        self.emails.add(candidate)
        return candidate

    def person(
        self, *, domain: str, company: str, country: str, size: str, role: str, numbered: bool = False
    ) -> Person:
        first, last = self.name()
        return Person(
            email=self.email(first, last, domain, numbered=numbered),
            first_name=first,
            last_name=last,
            company=company,
            job_title=self.rng.choice(JOB_TITLES[role]),
            role=role,
            country=country,
            company_size=size,
        )

    def country(self) -> str:
        if self.rng.random() < 0.8:
            return str(self.rng.choice(settings.SALES_COUNTRIES))
        return self.rng.choice(OTHER_COUNTRIES)

    def role(self) -> str:
        return self.rng.choices(ROLES, ROLE_WEIGHTS)[0]

    def pick(self, weighted: Sequence[tuple[str, int]]) -> str:
        return self.rng.choices([value for value, _ in weighted], [weight for _, weight in weighted])[0]

    def company_name(self, industry: str) -> str:
        for attempt in range(50):
            stem = self.rng.choice(COMPANY_STEMS)
            region = f" {self.rng.choice(REGIONS)}" if attempt or self.rng.random() < 0.6 else ""
            name = f"{stem}{region} {self.rng.choice(TRADES[industry])}"
            if name not in self.companies:
                break
        else:
            name = f"{name} {len(self.companies)}"
        self.companies.add(name)
        return name

    def company_journeys(self, size: int) -> list[Journey]:
        """A buying committee: people of one company (one e-mail domain), each trying a product of its industry."""
        industry = self.rng.choice(self.industries)
        company = self.company_name(industry)
        domain = f"{slugify(company)}.{SAMPLE_DOMAIN}"
        country = self.country()
        company_size = self.pick(COMPANY_SIZES)
        product = self.product_for(industry)
        journeys = []
        for _ in range(size):
            person = self.person(domain=domain, company=company, country=country, size=company_size, role=self.role())
            journeys.append(self.journey(person, industry, product if self.rng.random() < 0.8 else None))
        return journeys

    def free_mail_journey(self) -> Journey:
        industry = self.rng.choice(self.industries)
        role = self.role()
        company = "Independent" if role == "consultant" and self.rng.random() < 0.5 else self.company_name(industry)
        person = self.person(
            domain=self.rng.choice(FREE_MAIL),
            company=company,
            country=self.country(),
            size="",
            role=role,
            numbered=True,
        )
        person.personal_email = True
        return self.journey(person, industry, None)

    def partner_journey(self) -> Journey:
        name, slug = self.rng.choice(PARTNERS)
        person = self.person(
            domain=f"{slug}.{SAMPLE_DOMAIN}", company=name, country=self.country(), size="", role="consultant"
        )
        person.partner = f"{SAMPLE_SLUG_PREFIX}{slug}"
        journey = self.journey(person, self.rng.choice(self.industries), None)
        for demo in journey.demos:
            if self.rng.random() < 0.4:
                industry = demo.industry
                demo.purpose, demo.customer_company = Sandbox.Purpose.CUSTOMER_DEMO, self.company_name(industry)
            else:
                demo.purpose = Sandbox.Purpose.TRAINING
        return journey

    def source(self, person: Person) -> str:
        """Who made the sandbox: a partner's user their own; a few prospects' were made by sales."""
        if person.partner:
            return DemoSource.PARTNER
        return DemoSource.SALES if self.rng.random() < 0.06 else DemoSource.SELF_SERVICE

    def product_for(self, industry: str) -> str:
        weights = PRODUCT_WEIGHTS.get(industry, {})
        return str(self.rng.choices(self.products, [weights.get(key, 10) for key in self.products])[0])

    # What they did

    def journey(self, person: Person, industry: str, product: str | None) -> Journey:
        """A person's demos: one, sometimes a second of another product days later; each a session script."""
        journey = Journey(person)
        started = self.now - timedelta(seconds=self.rng.uniform(2 * 86400, WINDOW.total_seconds()))
        person.joined_at = started - timedelta(minutes=self.rng.uniform(2, 15))  # signed up, verified, chose
        first = product or self.product_for(industry)
        self.demo(journey, industry, first, started)
        second_start = started + timedelta(days=self.rng.uniform(1, 14))
        if self.rng.random() < 0.1 and second_start + timedelta(days=2) < self.now:
            others = [key for key in self.products if key != first]
            self.demo(journey, industry, self.rng.choice(others), second_start)
        return journey

    def demo(self, journey: Journey, industry: str, product: str, started: datetime) -> None:
        rng = self.rng
        self.slugs += 1
        demo = Demo(
            person=journey.person,
            slug=f"{SAMPLE_SLUG_PREFIX}{industry.replace('_', '-')}-{self.slugs:07d}",
            product=product,
            industry=industry,
            started_at=started,
            seed=rng.randint(1, 2**31 - 1),
        )
        journey.demos.append(demo)
        steps = journey.steps
        person = journey.person
        steps.append(
            Step(
                demo,
                "demo_started",
                started,
                {
                    "product": product,
                    "industry": industry,
                    "role": person.role,
                    "from_pool": rng.random() < 0.85,
                    "source": self.source(person),
                },
            )
        )
        kind = rng.choices(("quick_abandon", "browser", "explorer", "tour", "tour_left"), (18, 30, 24, 20, 8))[0]
        journey.kinds.add(kind)
        if kind == "quick_abandon":
            at = self.visit(demo, steps, started, features=rng.randint(0, 2), moments=0, within=timedelta(minutes=4))
            self.abandoned(demo, steps, at)
            return
        finished = kind == "tour"
        if kind in ("tour", "tour_left"):
            at = self.tour(demo, steps, started, leaves=kind == "tour_left")
        else:
            features = rng.randint(1, 3) if kind == "browser" else rng.randint(4, 7)
            moments = rng.randint(0, 1) if kind == "browser" else rng.randint(1, 3)
            at = self.visit(demo, steps, started, features=features, moments=moments)
        if rng.random() < 0.1:
            journey.kinds.add("extended")
            demo.extensions = 1
            at += timedelta(seconds=rng.uniform(20, 120))
            steps.append(Step(demo, "demo_extended", at, {"hours": 24, "by_staff": False}))
        if not finished:
            self.abandoned(demo, steps, at)
        if rng.random() < 0.25:
            back = at + timedelta(minutes=rng.uniform(45, 20 * 60))
            if back + timedelta(hours=1) < demo.expires_at:
                journey.kinds.add("returner")
                at = self.visit(demo, steps, back, features=rng.randint(1, 3), moments=rng.randint(0, 1))
                if not finished:
                    self.abandoned(demo, steps, at)
        hand_raise_odds = 0.35 if kind == "tour" and person.role == "executive" else 0.1
        if rng.random() < hand_raise_odds:
            journey.kinds.add("hand_raiser")
            name = self.pick(HAND_RAISES)
            steps.append(Step(demo, name, at + timedelta(seconds=rng.uniform(30, 300)), self.hand_raise(name, demo)))

    def visit(
        self,
        demo: Demo,
        steps: list[Step],
        at: datetime,
        *,
        features: int,
        moments: int,
        within: timedelta | None = None,
    ) -> datetime:
        """The sandbox home (its page view and dashboard), then ``features`` features seen and ``moments`` value
        moments, a few seconds to minutes apart. Returns the last step's time."""
        rng = self.rng
        at += timedelta(seconds=rng.uniform(3, 20))
        steps.append(Step(demo, "page_view", at, {"path": "/"}))
        steps.append(Step(demo, "dashboard_accessed", at, {"path": "/"}))
        gap = (within.total_seconds() / max(1, features + moments)) if within else None
        for feature in rng.sample(PAGE_FEATURES, features):
            at += timedelta(seconds=rng.uniform(5, gap) if gap else rng.uniform(30, 200))
            name = "feature_clicked" if feature == "history" and rng.random() < 0.3 else "feature_viewed"
            steps.append(Step(demo, name, at, {"feature": "history_zoom" if name == "feature_clicked" else feature}))
        for moment in rng.sample(VALUE_MOMENTS, moments):
            at += timedelta(seconds=rng.uniform(30, gap or 240))
            steps.append(Step(demo, moment, at, self.moment(moment, demo)))
        return at

    def tour(self, demo: Demo, steps: list[Step], at: datetime, *, leaves: bool = False) -> datetime:
        """The guided tour for the person's role, step by step, with its value moments, then completed."""
        rng = self.rng
        tour = f"{demo.product}.{demo.person.role}"
        minutes = catalogue.tour_minutes(product=demo.product, role=demo.person.role, industry=demo.industry)
        at = self.visit(demo, steps, at, features=0, moments=0)
        # Most finish (some steps skipped, as a plant without the step's element does); some leave on the way.
        shown = rng.randint(1, len(TOUR_STEPS) - 2) if leaves else rng.randint(5, len(TOUR_STEPS))
        for step, records in TOUR_STEPS[:shown]:
            at += timedelta(seconds=rng.uniform(0.5, 1.5) * minutes * 60 / len(TOUR_STEPS))
            if step in TOUR_STEP_PAGES:
                steps.append(Step(demo, "page_view", at, {"path": self.tour_page(step, demo)}))
            steps.append(Step(demo, records, at, {"feature": f"tour.{step}", "tour": tour, "step": step}))
            moment = {"o2-trim": "optimization_applied", "savings": "savings_calculated"}.get(step)
            if moment is not None and rng.random() < 0.75:
                steps.append(Step(demo, moment, at + timedelta(seconds=30), self.moment(moment, demo)))
        if leaves:
            return at
        at += timedelta(seconds=rng.uniform(20, 90))
        properties = {"tour": tour, "steps_done": shown, "steps_missing": len(TOUR_STEPS) - shown}
        steps.append(Step(demo, "demo_completed", at, properties))
        return at

    def tour_page(self, step: str, demo: Demo) -> str:
        page = TOUR_STEP_PAGES[step]
        return page.format(tag=self.asset_tag(demo)[1]) if "{tag}" in page else page

    def abandoned(self, demo: Demo, steps: list[Step], last: datetime) -> None:
        """What the beat records once the demo has been idle half an hour (if the sandbox still runs then)."""
        at = last + IDLE_BEFORE_ABANDONED + timedelta(seconds=self.rng.uniform(0, 300))
        if at < demo.expires_at:
            idle = round((at - last).total_seconds() / 60)
            steps.append(Step(demo, "demo_abandoned", at, {"idle_minutes": idle}))

    def asset_tag(self, demo: Demo) -> tuple[int, str]:
        asset = self.rng.choice(self.assets[demo.industry])
        number = self.rng.randint(1, max(1, asset.count))
        return self.rng.randint(1, 400), f"{asset.tag_prefix}-{100 + number}"

    def moment(self, name: str, demo: Demo) -> dict[str, Any]:
        rng = self.rng
        asset_id, tag = self.asset_tag(demo)
        savings = round(rng.uniform(40_000, 1_600_000), -2)
        if name == "savings_calculated":
            return {
                "asset_id": asset_id,
                "asset_tag": tag,
                "annual_savings_usd": savings,
                "fuel_saving_pct": round(rng.uniform(1.5, 9.0), 1),
                "co2_avoided_t_per_year": round(savings / rng.uniform(25, 60)),
            }
        if name == "optimization_applied":
            return {"kind": "o2_trim", "asset_id": asset_id, "o2_pct": round(rng.uniform(2.0, 3.5), 1)}
        if name == "alert_acknowledged":
            alarm = rng.choice(("o2_high", "tmt_high", "co_high", "nox_permit"))
            return {"alarm_key": f"{tag}:{alarm}:{rng.randint(1, 43200)}"}
        return {"kind": "findings_pdf", "annual_savings_usd": savings}

    def hand_raise(self, name: str, demo: Demo) -> dict[str, Any]:
        rng = self.rng
        if name == "pricing_requested":
            timeframe = rng.choice(("0-3m", "3-6m", "6-12m", "exploring"))
            return {"product": demo.product, "sites": rng.randint(1, 12), "timeframe": timeframe}
        if name == "poc_started":
            objective = rng.choice(("fuel", "emissions", "reliability", "heat_recovery", "visibility"))
            return {"product": demo.product, "objective": objective}
        slot = demo.started_at + timedelta(days=rng.randint(2, 9), hours=rng.randint(0, 6))
        return {"slot_starts_at": slot.replace(minute=0, second=0, microsecond=0).isoformat()}


@dataclass
class SampleSummary:
    people: int = 0
    companies: int = 0
    free_mail: int = 0
    partner_users: int = 0
    sandboxes: int = 0
    events: int = 0
    journeys: Counter[str] = field(default_factory=Counter)
    leads: int = 0
    mqls: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    write_seconds: float = 0.0
    score_seconds: float = 0.0
    rollup_seconds: float = 0.0


def sample_users() -> Any:
    """The sample's users (the marker: an address at a subdomain of ``sample.example``)."""
    return User.objects.filter(email__endswith=f".{SAMPLE_DOMAIN}")


def sample_activity_create(*, leads: int, seed: int, now: datetime | None = None) -> SampleSummary:
    """Replace the sample data with ``leads`` sample prospects and their activity (drawn from ``seed``, over the
    60 days before ``now``), in one transaction; then score them under the rule set in use, as a rescore does."""
    now = now or timezone.now()
    planner = Planner(seed=seed, now=now)
    summary = SampleSummary()
    started = time.monotonic()
    with transaction.atomic():
        summary.removed = sample_activity_remove()
        partners = partners_ensure()
        chunk: list[Journey] = []
        for group in planner.journeys(leads):
            chunk += group
            if len(group) > 1:
                summary.companies += 1
            if len(chunk) >= CHUNK:
                journeys_write(chunk, partners, summary)
                chunk = []
        journeys_write(chunk, partners, summary)
    analyze(User, Sandbox, Event)  # fresh statistics, so the scoring's queries are planned for what is there
    summary.write_seconds = time.monotonic() - started
    started = time.monotonic()
    user_ids = list(sample_users().order_by("pk").values_list("pk", flat=True))
    summary.leads = leads_rescore(user_ids=user_ids, now=now)
    sales_decisions(planner, now)
    analyze(Lead, ScoreEntry)
    summary.mqls = Lead.objects.filter(user__in=sample_users(), stage=Lead.Stage.MQL).count()
    summary.score_seconds = time.monotonic() - started
    # The dashboards: the sample's demos summarised and their days added up (bulk writes mark nothing stale).
    started = time.monotonic()
    sample_sandboxes = Sandbox.objects.filter(slug__startswith=SAMPLE_SLUG_PREFIX).values_list("pk", flat=True)
    DemoStale.objects.bulk_create([DemoStale(sandbox_id=pk) for pk in sample_sandboxes.iterator()], batch_size=10000)
    rollups_refresh(batch=BULK_BATCH)
    summary.rollup_seconds = time.monotonic() - started
    return summary


def sales_decisions(planner: Planner, now: datetime) -> None:
    """What sales made of the sample MQLs: some accepted (SQL), some of those opportunities with a value in USD.
    Each lead is dated from its person's sign-up, as a lead is made by its first event."""
    execute(
        sql.SQL(
            "UPDATE analytics_lead AS lead SET created_at = u.date_joined FROM demoportal_user AS u"
            " WHERE u.id = lead.user_id AND u.email LIKE %s"
        ),
        [f"%.{SAMPLE_DOMAIN}"],
    )
    rng = planner.rng
    leads, changes = [], []
    for lead in Lead.objects.filter(user__in=sample_users(), stage=Lead.Stage.MQL).order_by("pk"):
        if rng.random() >= 0.4:
            continue
        changes.append(stage_change_of(lead=lead, after=Lead.Stage.SQL, actor=None, reason="Accepted by sales"))
        if rng.random() < 0.35:
            lead.opportunity_value = Decimal(round(rng.uniform(40_000, 900_000), -3))
            lead.opportunity_currency = "USD"
            reason = f"Opportunity of USD {lead.opportunity_value:,.2f}"
            changes.append(stage_change_of(lead=lead, after=Lead.Stage.OPPORTUNITY, actor=None, reason=reason))
        lead.recommended_action = "Work the opportunity" if lead.opportunity_value else "Follow up the accepted lead"
        leads.append(lead)
    fields = ["stage", "stage_changed_at", "stage_reason", "mql_at", "sql_at", "opportunity_value"]
    Lead.objects.bulk_update(leads, [*fields, "opportunity_currency", "recommended_action"], batch_size=2000)
    LeadStageChange.objects.bulk_create(changes, batch_size=2000)


def analyze(*models: type[Model]) -> None:
    for model in models:
        execute(sql.SQL("ANALYZE {}").format(sql.Identifier(model._meta.db_table)))


def partners_ensure() -> dict[str, Partner]:
    made = {}
    for name, slug in PARTNERS:
        partner, _ = Partner.objects.get_or_create(
            slug=f"{SAMPLE_SLUG_PREFIX}{slug}", defaults={"name": name, "email_domains": [f"{slug}.{SAMPLE_DOMAIN}"]}
        )
        made[partner.slug] = partner
    return made


def journeys_write(journeys: Sequence[Journey], partners: dict[str, Partner], summary: SampleSummary) -> None:
    """The people, their sandboxes and their events, with one COPY each."""
    unusable = make_password(None)
    users = []
    for journey in journeys:
        person = journey.person
        partner = partners.get(person.partner)
        assert person.joined_at is not None
        person.user = User(
            email=person.email,
            password=unusable,
            first_name=person.first_name,
            last_name=person.last_name,
            company=person.company,
            job_title=person.job_title,
            role=person.role,
            country=person.country,
            company_size=person.company_size,
            personal_email=person.personal_email,
            partner=partner,
            date_joined=person.joined_at,
            last_login=max(step.at for step in journey.steps),
            contact_consent_at=person.joined_at,
            contact_consent_version=settings.CONTACT_CONSENT_VERSION,
        )
        users.append(person.user)
        summary.journeys.update(journey.kinds)
        summary.free_mail += person.personal_email
        summary.partner_users += partner is not None
    objects_copy(User, users)
    sandboxes = [demo_sandbox(demo, partners) for journey in journeys for demo in journey.demos]
    objects_copy(Sandbox, sandboxes)
    copy_rows(Event._meta.db_table, EVENT_COLUMNS, event_rows(journeys))
    summary.people += len(users)
    summary.sandboxes += len(sandboxes)
    summary.events += sum(len(journey.steps) for journey in journeys)


EVENT_COLUMNS = (
    "name",
    "user_id",
    "sandbox_id",
    "partner_id",
    "properties",
    "occurred_at",
    "received_at",
    "source",
    "idempotency_key",
)


def event_rows(journeys: Sequence[Journey]) -> Iterator[tuple[Any, ...]]:
    received = timedelta(milliseconds=150)  # on its way from the page or the service
    for journey in journeys:
        user = journey.person.user
        assert user is not None
        for step in journey.steps:
            sandbox = step.demo.sandbox
            assert sandbox is not None
            source = Event.Source.SERVER if step.name in SERVER_EVENTS else Event.Source.CLIENT
            at, properties = step.at, step.properties
            yield (step.name, user.pk, sandbox.pk, sandbox.partner_id, properties, at, at + received, source, "")


def demo_sandbox(demo: Demo, partners: dict[str, Partner]) -> Sandbox:
    """An ended sandbox as expiry leaves it: the row, without schema or domain."""
    created = demo.started_at - timedelta(seconds=1)
    sandbox = Sandbox(
        slug=demo.slug,
        schema_name=demo.slug.replace("-", "_"),
        name=catalogue.scenarios()[demo.industry].name,
        kind=Sandbox.Kind.DEMO,
        status=Sandbox.Status.EXPIRED,
        industry=demo.industry,
        product=demo.product,
        role=demo.person.role,
        owner=demo.person.user,
        partner=partners.get(demo.person.partner),
        purpose=demo.purpose,
        customer_company=demo.customer_company,
        ready_at=created,
        reset_at=created,
        expires_at=demo.expires_at,
        ended_at=demo.expires_at + timedelta(seconds=30),
        extensions=demo.extensions,
        seed=demo.seed,
        provisioning_ms=60,
    )
    sandbox.created_at = created
    demo.sandbox = sandbox
    return sandbox


def sample_activity_remove() -> dict[str, int]:
    """Delete the sample data (see the module's "marker"); real users, leads and sandboxes are untouched.
    Returns how many rows of each model went (``app.Model`` labels), rows that referred to them aside.

    In SQL, deepest first: through the ORM, each deleted row would be loaded and signalled (django-tenants
    listens to every deletion, and looks for a sandbox's schema: a query per sandbox)."""
    marker = [f"%.{SAMPLE_DOMAIN}"]
    users = sql.SQL("SELECT id FROM {} WHERE email LIKE %s").format(sql.Identifier(User._meta.db_table))
    leads = sql.SQL("SELECT id FROM {} WHERE user_id IN ({})").format(sql.Identifier(Lead._meta.db_table), users)
    removed: dict[str, int] = {}
    with transaction.atomic():
        # The dashboards' summaries of sample demos, then the days they were counted in.
        summaries = DemoSummary.objects.filter(
            Q(user__email__endswith=f".{SAMPLE_DOMAIN}")
            | Q(sandbox_id__in=Sandbox.objects.filter(slug__startswith=SAMPLE_SLUG_PREFIX).values("pk"))
        )
        days = set(summaries.values_list("day", flat=True).distinct())
        DemoStale.objects.filter(sandbox_id__in=summaries.values("sandbox_id")).delete()
        removed[DemoSummary._meta.label] = summaries.delete()[0]
        for model, column, rows in (
            (ScoreEntry, "lead_id", leads),
            (LeadStageChange, "lead_id", leads),
            (Lead, "user_id", users),
            (Event, "user_id", users),  # the ledger that referred to them is gone
        ):
            where = sql.SQL("{} IN ({})").format(sql.Identifier(column), rows)
            removed[model._meta.label] = execute(
                sql.SQL("DELETE FROM {} WHERE {}").format(sql.Identifier(model._meta.db_table), where), marker
            )
        ended = sql.SQL("kind = %s AND status = ANY(%s) AND (owner_id IN ({}) OR owner_id IS NULL AND slug LIKE %s)")
        removed[Sandbox._meta.label] = rows_delete(
            Sandbox,
            ended.format(users),
            [Sandbox.Kind.DEMO, list(ENDED_STATUSES), *marker, f"{SAMPLE_SLUG_PREFIX}%"],
        )
        removed[User._meta.label] = rows_delete(User, sql.SQL("email LIKE %s"), marker)
        # What beat's purge kept of ended sample sandboxes (their numbers, no owner): marked when archived.
        removed[ArchivedSandbox._meta.label] = rows_delete(ArchivedSandbox, sql.SQL("sample"), [])
        removed[Partner._meta.label] = Partner.objects.filter(slug__startswith=SAMPLE_SLUG_PREFIX).delete()[0]
        days_rollup(days)
        leads_snapshot()
    return {label: count for label, count in sorted(removed.items()) if count}
