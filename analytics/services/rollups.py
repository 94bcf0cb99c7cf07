"""The dashboards' rollups (docs/dashboards.md): each demo summarised from its events, and the summaries added
up per day and segment, so a dashboard reads a few thousand rows however many million events there are.

Every event recorded in a sandbox marks its demo stale, in the event's own transaction (``demo_stale_mark``).
``rollups_refresh`` (beat, every minute) takes the stale demos, rebuilds their summaries from all their events
(so a late event, one sent hours after it happened, lands where it belongs) and recomputes the days those
demos started on; then it takes the lead snapshot: every lead, by the day it was made, segment, fit grade and
engagement band now (``LeadDay``), and by account (``AccountDay``), so Lead Quality reads these instead of a
million leads (their engagement decays, so they are taken whole each time). ``rollups_rebuild`` marks every
demo stale and recomputes every day: after bulk writes that bypass ``event_record`` (the sample data) or a
change of DASHBOARD_TIME_ZONE.

A summary outlives its sandbox's record: once a sandbox is purged its events no longer name it, so nothing
marks it stale again and its summary stays as it was. A prospect's erasure empties the summary's ``user``; the
demo still counts, anonymously, as its events do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, F, Min, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone

from analytics.models import (
    AccountDay,
    DemoDay,
    DemoSource,
    DemoStale,
    DemoSummary,
    ExitPageDay,
    FeatureDay,
    Lead,
    LeadDay,
    LeadSnapshot,
    TourStepDay,
)
from analytics.scoring import FEATURE_EVENTS
from analytics.selectors.leads import engagement_expression
from analytics.services.bulk import copy_rows, rows_read
from analytics.services.leads import rule_set_active
from sandboxes.models import Sandbox

VISIT_GAP = timedelta(minutes=30)  # inactivity that ends a visit, as the scoring's default session gap
HAND_RAISES = {"pricing_requested": "pricing", "sales_contact_requested": "meetings", "poc_started": "pocs"}
SYSTEM_EVENTS = frozenset({"demo_abandoned"})  # recorded after the prospect left: not activity
REFRESH_BATCH = 2000  # stale demos taken per transaction
BULK_BATCH = 200_000  # … after bulk writes: their days are then added up once per this many demos, not per 2,000
ROLLUP_LOCK = 7_314_001  # pg advisory lock: one refresh at a time (beat's, a rebuild's)
SNAPSHOT_WORK_MEM = "128MB"  # for the lead snapshot's transaction only; one refresh runs at a time
ENGAGEMENT_BANDS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, None))  # [low, high) of the engagement score


def dashboard_zone() -> ZoneInfo:
    return ZoneInfo(settings.DASHBOARD_TIME_ZONE)


def day_of(moment: datetime) -> date:
    """The dashboard day of ``moment``: its date in DASHBOARD_TIME_ZONE."""
    return moment.astimezone(dashboard_zone()).date()


def demo_stale_mark(*, sandbox_id: int) -> None:
    """Mark the demo in this sandbox for the next refresh (in the caller's transaction).

    A row of its own for each event, never an update of an existing mark: an upsert would lock the mark, and
    two transactions marking the same demo while locking a lead or a sandbox in the other order deadlock. A
    refresh deletes only the marks it read (``rollups_refresh``), so one inserted meanwhile stays for the next."""
    DemoStale.objects.create(sandbox_id=sandbox_id)


# One demo's summary, from its events.


class DemoEvent(NamedTuple):
    sandbox_id: int
    user_id: int | None
    name: str
    at: datetime
    properties: dict[str, Any]
    partner_id: int | None


@dataclass(slots=True)
class Summary:
    """A demo's ``DemoSummary`` row (its columns by name; ``refreshed_at`` is the writing's): a plain object, many
    times cheaper to make than a model instance."""

    sandbox_id: int
    user_id: int | None
    started_at: datetime
    day: date
    product: str
    industry: str
    role: str
    partner_id: int | None
    source: str
    completed: bool = False
    abandoned: bool = False
    pricing: int = 0
    meetings: int = 0
    pocs: int = 0
    duration_seconds: int = 0
    visits: int = 1
    tour: str = ""
    steps: list[str] = field(default_factory=list)
    features: dict[str, int] = field(default_factory=dict)
    exit_path: str = ""


SUMMARY_COLUMNS = (*(column.name for column in fields(Summary)), "refreshed_at")


def summary_of(events: Sequence[DemoEvent], sandbox: Sandbox | None) -> Summary | None:
    """The summary of one sandbox's demo from its events (in time order), or None without a ``demo_started``.

    Only the events of the person who started it count (a colleague or staff watching are not the prospect)."""
    started = next((event for event in events if event.name == "demo_started"), None)
    if started is None:
        return None
    own = [event for event in events if event.user_id == started.user_id]
    props = started.properties
    summary = Summary(
        sandbox_id=started.sandbox_id,
        user_id=started.user_id,
        started_at=started.at,
        day=day_of(started.at),
        product=str(props.get("product") or (sandbox.product if sandbox else "")),
        industry=str(props.get("industry") or (sandbox.industry if sandbox else "")),
        role=str(props.get("role") or (sandbox.role if sandbox else "")),
        partner_id=started.partner_id,
        source=str(props.get("source") or (DemoSource.PARTNER if started.partner_id else DemoSource.SELF_SERVICE)),
    )
    names = [event.name for event in own]
    summary.completed = "demo_completed" in names
    summary.abandoned = "demo_abandoned" in names and not summary.completed
    for name, counted in HAND_RAISES.items():
        setattr(summary, counted, names.count(name))
    activity = [event.at for event in own if event.name not in SYSTEM_EVENTS]
    summary.duration_seconds, summary.visits = active_time(activity)
    features: Counter[str] = Counter()
    steps: list[str] = []
    last_path = ""
    for event in own:
        feature = str(event.properties.get("feature") or "")
        if event.properties.get("step") and event.properties.get("tour"):
            summary.tour = str(event.properties["tour"])[:60]
            if event.properties["step"] not in steps:
                steps.append(str(event.properties["step"])[:60])
        elif event.name in FEATURE_EVENTS and not feature.startswith("tour."):
            features[(feature or event.name)[:100]] += 1
        if event.name == "page_view" and isinstance(event.properties.get("path"), str):
            last_path = event.properties["path"][:200]
    summary.steps, summary.features = steps, dict(features)
    summary.exit_path = last_path if summary.abandoned else ""
    return summary


def active_time(moments: Sequence[datetime]) -> tuple[int, int]:
    """(seconds of activity, visits): a visit runs from one event to the last before a gap of VISIT_GAP."""
    if not moments:
        return 0, 1
    ordered = sorted(moments)
    total, visits, start, last = 0.0, 1, ordered[0], ordered[0]
    for moment in ordered[1:]:
        if moment - last > VISIT_GAP:
            total += (last - start).total_seconds()
            visits, start = visits + 1, moment
        last = moment
    total += (last - start).total_seconds()
    return round(total), visits


def demo_events(sandbox_ids: Sequence[int]) -> dict[int, list[DemoEvent]]:
    """These sandboxes' events, each sandbox's in time order: plain tuples, read with psycopg's own loaders (C for
    times and JSON) rather than through the ORM's per-row conversions."""
    out: dict[int, list[DemoEvent]] = {}
    for sandbox_id, rows in groupby(
        rows_read(
            "SELECT sandbox_id, user_id, name, occurred_at, properties, partner_id FROM analytics_event"
            # The range as well: the index is then read in order, and only each sandbox's events are sorted.
            " WHERE sandbox_id = ANY(%s) AND sandbox_id BETWEEN %s AND %s ORDER BY sandbox_id, occurred_at, id",
            [list(sandbox_ids), min(sandbox_ids), max(sandbox_ids)],
        ),
        key=itemgetter(0),
    ):
        out[sandbox_id] = [DemoEvent._make(row) for row in rows]
    return out


def needs_sandbox(events: Sequence[DemoEvent]) -> bool:
    """Whether the demo's ``demo_started`` lacks a segment ``summary_of`` then takes from the sandbox's record."""
    started = next((event for event in events if event.name == "demo_started"), None)
    return started is not None and not all(started.properties.get(name) for name in ("product", "industry", "role"))


SUMMARY_CHUNK = 5000  # demos whose events are read at once


def summaries_rebuild(sandbox_ids: Sequence[int]) -> set[date]:
    """Rebuild these demos' summaries from their events, a chunk of sandboxes at a time; returns the days whose
    rollups they change."""
    ordered = sorted(set(sandbox_ids))
    days: set[date] = set()
    for start in range(0, len(ordered), SUMMARY_CHUNK):
        days |= summaries_chunk_rebuild(ordered[start : start + SUMMARY_CHUNK])
    return days


def summaries_chunk_rebuild(sandbox_ids: Sequence[int]) -> set[date]:
    events = demo_events(sandbox_ids)
    lacking = [sandbox_id for sandbox_id, demo in events.items() if needs_sandbox(demo)]
    sandboxes = Sandbox.objects.in_bulk(lacking) if lacking else {}
    summaries = [
        summary
        for sandbox_id, demo in events.items()
        if (summary := summary_of(demo, sandboxes.get(sandbox_id))) is not None
    ]
    # Deleted and written again, by COPY. A sandbox whose events no longer name it (purged) keeps its summary
    # (its days do not change); one whose events exist but hold no demo_started has none.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM analytics_demosummary WHERE sandbox_id = ANY(%s) RETURNING day", [list(events)])
        old_days = {row[0] for row in cursor.fetchall()}
    now = timezone.now()
    copy_rows(
        DemoSummary._meta.db_table,
        SUMMARY_COLUMNS,
        ([*(getattr(summary, name) for name in SUMMARY_COLUMNS[:-1]), now] for summary in summaries),
    )
    return old_days | {summary.day for summary in summaries}


# The days: what one day's summaries add up to, per segment, added up by the database.

SEGMENT = "s.day, s.product, s.industry, s.role, s.partner_id, s.source"
DAY_ROLLUPS = (
    (
        DemoDay,
        "demos, completed, converted, abandoned, pricing, meetings, pocs, duration_seconds",
        "count(*), count(*) FILTER (WHERE completed), count(*) FILTER (WHERE pricing > 0 OR meetings > 0 OR pocs > 0),"
        " count(*) FILTER (WHERE abandoned), sum(pricing), sum(meetings), sum(pocs), sum(duration_seconds)",
        "",
        "",
    ),
    (  # each feature a demo used: the demo, and its uses
        FeatureDay,
        "feature, demos, uses",
        "f.key, count(*), sum(f.value::bigint)",
        "CROSS JOIN LATERAL jsonb_each(s.features) AS f",
        "f.key",
    ),
    (  # each step a demo reached, its place in the demo's order, and whether an abandoned demo left there
        TourStepDay,
        'tour, step, reached, "left", position_sum',
        "s.tour, st.step, count(*), count(*) FILTER (WHERE st.n = jsonb_array_length(s.steps) AND s.abandoned),"
        " sum(st.n - 1)",
        "CROSS JOIN LATERAL jsonb_array_elements_text(s.steps) WITH ORDINALITY AS st(step, n)",
        "s.tour, st.step",
    ),
    (  # the last page of each abandoned demo
        ExitPageDay,
        "path, demos",
        "coalesce(nullif(s.exit_path, ''), '(no page)'), count(*)",
        "",
        "coalesce(nullif(s.exit_path, ''), '(no page)')",
    ),
)


def days_rollup(days: Iterable[date]) -> None:
    """Recompute the rollups of these days from their summaries (in the caller's transaction)."""
    days = sorted(set(days))
    if not days:
        return
    with connection.cursor() as cursor:
        for model, columns, values, join, by in DAY_ROLLUPS:
            table = model._meta.db_table
            where = "s.abandoned AND " if model is ExitPageDay else ""
            cursor.execute(f"DELETE FROM {table} WHERE day = ANY(%s)", [days])  # noqa: S608  (names from here)
            cursor.execute(
                f"INSERT INTO {table} ({SEGMENT.replace('s.', '')}, {columns})"  # noqa: S608
                f" SELECT {SEGMENT}, {values} FROM analytics_demosummary AS s {join}"
                f" WHERE {where}s.day = ANY(%s) GROUP BY {SEGMENT}{', ' + by if by else ''}",
                [days],
            )


# The leads: one snapshot of them all, by day, segment, fit grade and engagement band, and by account.

SCORED = (
    "day",
    "product",
    "industry",
    "role",
    "partner_id",
    "source",
    "fit_grade",
    "account_domain",
    "stage",
    "last_activity_at",
    "mql_at",
    "sql_at",
    "opportunity_value",
    "currency",
    "engagement",
)
LEAD_SNAPSHOT = """
WITH scored ({scored}) AS MATERIALIZED ({leads}),
lead_days AS (
    INSERT INTO analytics_leadday (day, product, industry, role, partner_id, source, fit_grade, band, currency,
        leads, mqls, sqls, opportunities, opportunity_value)
    SELECT day, product, industry, role, partner_id, source, fit_grade,
        WIDTH_BUCKET(ROUND(engagement), %s::float8[]),
        CASE WHEN stage = 'opportunity' AND opportunity_value IS NOT NULL THEN currency ELSE '' END,
        count(*), count(*) FILTER (WHERE mql_at IS NOT NULL), count(*) FILTER (WHERE sql_at IS NOT NULL),
        count(*) FILTER (WHERE stage = 'opportunity'),
        coalesce(sum(opportunity_value) FILTER (WHERE stage = 'opportunity'), 0)
    FROM scored GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
)
INSERT INTO analytics_accountday (day, product, industry, role, partner_id, source, account_domain, people,
    engagement, mqls, sqls, opportunities, last_activity_at)
SELECT day, product, industry, role, partner_id, source, account_domain, count(*), sum(engagement),
    count(*) FILTER (WHERE stage = 'mql'), count(*) FILTER (WHERE stage = 'sql'),
    count(*) FILTER (WHERE stage = 'opportunity'), max(last_activity_at)
FROM scored WHERE account_domain <> '' GROUP BY 1, 2, 3, 4, 5, 6, 7"""


def leads_snapshot(now: datetime | None = None) -> int:
    """Take the lead rollups again, whole, as of ``now``: ``LeadDay`` and ``AccountDay`` (in one transaction,
    under the refresh's lock; readers see the previous snapshot until it commits). Engagement decays, so a
    lead's band and its account's engagement change with no event: every lead is read, in one pass, by the
    database.

    A lead's segment is its first demo's product and industry, its role, its partner and who made its first
    demo's sandbox; its day, the day its row was made. Returns the number of leads."""
    now = now or timezone.now()
    started = timezone.now()
    leads = (
        Lead.objects.annotate(
            day=TruncDate("created_at", tzinfo=dashboard_zone()),
            product=Coalesce(KT("products__0"), Value(""), output_field=CharField()),
            industry=Coalesce(KT("industries__0"), Value(""), output_field=CharField()),
            role=F("user__role"),
            partner_id=F("user__partner_id"),
            currency=Coalesce(NullIf("opportunity_currency", Value("")), Value("USD")),
            # A lead with no engagement yet has no decay anchor: 0, in the first band.
            engagement=Coalesce(engagement_expression(rule_set_active(), now), Value(0.0)),
        )
        .order_by()
        .values_list(*SCORED)
    )  # not the leads' default order: a sort of every lead for nothing
    sql, params = leads.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK])  # a refresh's own: it holds it already
        # Its aggregates in memory rather than sorted on disk, and no JIT (it cost more than it saved): 7.2 s
        # then 3.6 s at 885,000 leads (docs/benchmarks.md, "Dashboards").
        cursor.execute(f"SET LOCAL work_mem = '{SNAPSHOT_WORK_MEM}'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(f"DELETE FROM {LeadDay._meta.db_table}")  # noqa: S608  (names from here)
        cursor.execute(f"DELETE FROM {AccountDay._meta.db_table}")  # noqa: S608
        cursor.execute(
            LEAD_SNAPSHOT.format(scored=", ".join(SCORED), leads=sql),
            [*params, [float(low) for low, _ in ENGAGEMENT_BANDS]],
        )
        count = LeadDay.objects.aggregate(n=Sum("leads"))["n"] or 0
        LeadSnapshot.objects.update_or_create(
            pk=1, defaults={"taken_at": now, "leads": count, "seconds": (timezone.now() - started).total_seconds()}
        )
    return count


# Refresh and rebuild.


def rollups_refresh(*, batch: int = REFRESH_BATCH) -> int:
    """Rebuild the stale demos' summaries and their days' rollups, a batch per transaction, until none is stale;
    then take the lead snapshot. Returns how many demos it rebuilt; 0 at once when another refresh holds the
    lock."""
    done = 0
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ROLLUP_LOCK])
                if not cursor.fetchone()[0]:
                    return done
                # Read, not locked: a prospect's event never waits for a refresh. Only the marks read go, last: one
                # an event inserted meanwhile (committed or not yet) stays, and its demo is rebuilt next round.
                cursor.execute("SELECT id, sandbox_id FROM analytics_demostale ORDER BY id LIMIT %s", [batch])
                taken = cursor.fetchall()
            if not taken:
                leads_snapshot()
                return done
            sandbox_ids = sorted({sandbox_id for _, sandbox_id in taken})
            days_rollup(summaries_rebuild(sandbox_ids))
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM analytics_demostale WHERE id = ANY(%s)", [[pk for pk, _ in taken]])
            done += len(sandbox_ids)


def rollups_rebuild() -> int:
    """Summarise every demo again from its events and recompute every day. Returns the number of demos."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO analytics_demostale (sandbox_id, marked_at)"
            " SELECT DISTINCT sandbox_id, now() FROM analytics_event WHERE name = 'demo_started'"
            " AND sandbox_id IS NOT NULL"
        )
    count = rollups_refresh(batch=BULK_BATCH)
    # Days no stale demo touched (a time zone change moves every day; purged demos' days) are recomputed too.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE analytics_demosummary SET day = (started_at AT TIME ZONE %s)::date"
                " WHERE day <> (started_at AT TIME ZONE %s)::date",
                [settings.DASHBOARD_TIME_ZONE] * 2,
            )
        first = DemoSummary.objects.aggregate(first=Min("day"))["first"]
        if first is not None:
            last = day_of(datetime.now(dashboard_zone())) + timedelta(days=1)
            days_rollup(first + timedelta(days=n) for n in range((last - first).days + 1))
    return count
