"""Analytics records. What survives a sandbox's purge is kept here, anonymised."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class ArchivedSandbox(models.Model):
    """An ended sandbox's numbers, kept after its record is purged: no owner, no address, no slug.

    Enough for marketing's segment figures (which scenario, product and role; how long it lived; how
    much it was used) and for the sandbox totals of ``GET /api/v1/stats``.
    """

    industry = models.CharField(max_length=20)
    product = models.CharField(max_length=30, blank=True)
    role = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    end_status = models.CharField(max_length=12, help_text="expired or destroyed")
    extensions = models.PositiveIntegerField(default=0)
    resets = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    provisioning_ms = models.PositiveIntegerField(null=True, blank=True)
    archived_at = models.DateTimeField(auto_now_add=True)
    sample = models.BooleanField(
        default=False, help_text="A sandbox of the sample data (manage.py sample_activity): removed with it."
    )

    class Meta:
        ordering = ["-ended_at"]
        verbose_name_plural = "archived sandboxes"

    def __str__(self) -> str:
        return f"{self.industry}/{self.product} ended {self.ended_at:%Y-%m-%d} ({self.end_status})"


# What a prospect does, by name: the specification's catalogue, plus page views.
EVENT_NAMES = (
    "demo_started",
    "demo_completed",
    "demo_abandoned",
    "demo_extended",
    "feature_viewed",
    "feature_clicked",
    "dashboard_accessed",
    "report_generated",
    "alert_acknowledged",
    "savings_calculated",
    "optimization_applied",
    "anomaly_detected",
    "recommendation_viewed",
    "pricing_requested",
    "sales_contact_requested",
    "trial_extended",
    "poc_started",
    "page_view",
)


class Event(models.Model):
    """One thing a prospect did, recorded by the server (its own actions) or sent by the page's script.

    The rows stay when a sandbox's record is purged: ``sandbox`` is then emptied, so the event is kept
    without where it happened.
    """

    class Source(models.TextChoices):
        SERVER = "server"
        CLIENT = "client"

    name = models.CharField(max_length=40, choices=[(name, name) for name in EVENT_NAMES])
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    sandbox = models.ForeignKey(
        "sandboxes.Sandbox", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    # The partner the lead is attributed to: the sandbox's, or for an event outside a sandbox the user's.
    partner = models.ForeignKey(
        "demoportal.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    properties = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=6, choices=Source.choices)
    idempotency_key = models.CharField(
        max_length=100, blank=True, help_text="Sent by the client; a repeat returns the first event."
    )

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["user", "-occurred_at"]), models.Index(fields=["name", "-occurred_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="event_idempotency_key_once_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} at {self.occurred_at:%Y-%m-%d %H:%M}"


# LEAD SCORING (docs/scoring.md). A prospect who agreed to be contacted is a lead; what scores them is a
# versioned rule set; each point is a row of the ledger (ScoreEntry), and the lead's totals are derived
# from it.


class RuleSet(models.Model):
    """One version of the scoring rules and the thresholds around them. A draft is edited, previewed and
    applied; an applied version never changes again (editing starts the next version)."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        ACTIVE = "active", "in use"
        RETIRED = "retired", "replaced"

    version = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    note = models.CharField(max_length=200, blank=True, help_text="What this version changes, and why.")
    # The derived signals' parameters.
    feature_depth_min = models.PositiveSmallIntegerField(
        default=6, help_text="Distinct features explored in one product demo that make 'feature depth' (more than 5)."
    )
    session_gap_minutes = models.PositiveSmallIntegerField(
        default=30, help_text="Inactivity that separates two visits ('multiple sessions')."
    )
    quick_abandonment_minutes = models.PositiveSmallIntegerField(
        default=5, help_text="A demo abandoned with less activity than this after it started is a quick abandonment."
    )
    # Decay: engagement points halve every half-life, per rule group; fit never decays.
    intent_half_life_days = models.PositiveSmallIntegerField(
        default=30, help_text="Half-life of hand-raises and buying signals (days)."
    )
    activity_half_life_days = models.PositiveSmallIntegerField(
        default=30, help_text="Half-life of what the prospect explored (days)."
    )
    # The grid: engagement at or above this, with one of these fit grades, makes an MQL.
    mql_engagement = models.PositiveSmallIntegerField(default=60, help_text="Engagement that makes an MQL.")
    mql_fit_grades = models.CharField(
        max_length=4, default="ABC", help_text="Fit grades that can become MQL by engagement (a hand-raise always can)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        verbose_name = "scoring rule set"
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=models.Q(status="active"), name="one_active_rule_set"),
            models.CheckConstraint(
                condition=models.Q(intent_half_life_days__gte=1, activity_half_life_days__gte=1),
                name="rule_set_half_life_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(mql_fit_grades__regex=r"^[A-D]*$"), name="rule_set_mql_grades_known"
            ),
        ]

    def __str__(self) -> str:
        return f"Scoring rules v{self.version} ({self.get_status_display()})"


class Rule(models.Model):
    """What one signal is worth in a rule set: a fit attribute (who they are) or an engagement signal (what
    they did), its points, and how often it may count per lead per product demo."""

    class Kind(models.TextChoices):
        FIT = "fit"
        ENGAGEMENT = "engagement"

    class Group(models.TextChoices):
        INTENT = "intent", "hand-raises and buying signals"
        ACTIVITY = "activity", "what they explored"

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    signal = models.CharField(max_length=40, help_text="The event or derived signal (docs/scoring.md).")
    points = models.SmallIntegerField()
    max_per_demo = models.PositiveSmallIntegerField(
        default=1, help_text="How many times it counts per lead per product demo (engagement only)."
    )
    group = models.CharField(max_length=8, choices=Group.choices, default=Group.ACTIVITY)
    hand_raise = models.BooleanField(default=False, help_text="Makes the lead an MQL at once.")

    class Meta:
        ordering = ["kind", "-points", "signal"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "kind", "signal"], name="rule_signal_once_per_set"),
            models.CheckConstraint(condition=models.Q(points__gte=-100, points__lte=100), name="rule_points_range"),
            models.CheckConstraint(condition=models.Q(max_per_demo__gte=1), name="rule_counts_at_least_once"),
        ]

    def __str__(self) -> str:
        return f"{self.signal} {self.points:+d}"


class Lead(models.Model):
    """A prospect as sales see them: fit and engagement kept apart, the stage, and the account (the company's
    e-mail domain) they roll up to. The scores are derived from the ledger (``entries``); the decay of
    engagement is applied whenever a score is read (``analytics.scoring``)."""

    class Stage(models.TextChoices):
        LEAD = "lead"
        MQL = "mql", "MQL"
        SQL = "sql", "SQL"
        OPPORTUNITY = "opportunity"
        RECYCLED = "recycled"
        DISQUALIFIED = "disqualified"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lead")
    account_domain = models.CharField(
        max_length=253, blank=True, db_index=True, help_text="The business e-mail domain; empty for free-mail."
    )
    fit_score = models.SmallIntegerField(default=0)
    fit_grade = models.CharField(max_length=1, default="D")
    # Engagement points weighted by their age at ``decay_anchor`` (each point halves per half-life of its
    # group): the engagement at time t is weight × 2^(−(t − anchor) / half-life), summed over the groups.
    intent_weight = models.FloatField(default=0)
    activity_weight = models.FloatField(default=0)
    decay_anchor = models.DateTimeField(null=True, blank=True)
    engagement_points = models.IntegerField(default=0, help_text="Before decay.")
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.LEAD, db_index=True)
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    stage_reason = models.CharField(max_length=300, blank=True)
    mql_at = models.DateTimeField(
        null=True, blank=True, help_text="When the lead first became an MQL (or was accepted without being one)."
    )
    sql_at = models.DateTimeField(null=True, blank=True, help_text="When sales first accepted the lead.")
    source = models.CharField(
        max_length=12, blank=True, help_text="Who made the sandbox of the lead's first demo (docs/dashboards.md)."
    )
    opportunity_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    opportunity_currency = models.CharField(max_length=3, blank=True, default="")
    recommended_action = models.CharField(
        max_length=300, blank=True, help_text="Set on every scoring and stage change."
    )
    products = models.JSONField(default=list, help_text="Products they have demoed, first one first.")
    industries = models.JSONField(default=list)
    last_activity_at = models.DateTimeField(null=True, blank=True, db_index=True)
    rule_set = models.ForeignKey(RuleSet, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)  # the dashboards count leads by it
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_activity_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(fit_grade__in=["A", "B", "C", "D"]), name="lead_fit_grade_known"),
            models.CheckConstraint(
                condition=models.Q(opportunity_value__isnull=True) | models.Q(opportunity_value__gte=0),
                name="lead_opportunity_value_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.email} ({self.get_stage_display()}, fit {self.fit_grade})"


class ScoreEntry(models.Model):
    """One contribution to a lead's score: which rule of which version gave how many points for which event
    (none for fit), and when. ``key`` makes a contribution count once however often it is derived."""

    # No index of their own: the unique (lead, rule set, key) serves every read by lead, and a rescore writes a
    # million rows, each index write a cost (docs/benchmarks.md, "Lead scoring").
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="entries", db_index=False)
    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=10, choices=Rule.Kind.choices)
    signal = models.CharField(max_length=40)
    group = models.CharField(max_length=8, choices=Rule.Group.choices, blank=True)
    points = models.SmallIntegerField()
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    product = models.CharField(max_length=30, blank=True)
    occurred_at = models.DateTimeField()
    key = models.CharField(max_length=120)
    explanation = models.CharField(max_length=300)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        verbose_name_plural = "score entries"
        constraints = [models.UniqueConstraint(fields=["lead", "rule_set", "key"], name="score_entry_once")]

    def __str__(self) -> str:
        return f"{self.points:+d} {self.explanation}"


class LeadStageChange(models.Model):
    """The audit of a lead's stage: from what to what, who (None: the scoring), when and why."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="stage_changes")
    before = models.CharField(max_length=12, choices=Lead.Stage.choices)
    after = models.CharField(max_length=12, choices=Lead.Stage.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.before} → {self.after}: {self.reason}"


class RescoreJob(models.Model):
    """A preview or an application of a rule set to every lead, run by the worker, with its progress and
    (for a preview) what would change."""

    class Mode(models.TextChoices):
        PREVIEW = "preview"
        APPLY = "apply"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="jobs")
    mode = models.CharField(max_length=7, choices=Mode.choices)
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    leads_total = models.PositiveIntegerField(default=0)
    leads_done = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True, help_text="What changes: counts and the leads affected.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} of v{self.rule_set.version}: {self.status}"


# MARKETING'S DASHBOARDS (docs/dashboards.md). Each demo is summarised in one row (DemoSummary), rebuilt from its
# events whenever one arrives; the summaries are added up per day and segment (the *Day tables), which is all a
# dashboard reads. Days are dates in DASHBOARD_TIME_ZONE.


class DemoSource(models.TextChoices):
    """Who made a demo's sandbox. (``Event.source`` is something else: whether the server or the page recorded
    an event.)"""

    SELF_SERVICE = "self_service", "Self-service"
    PARTNER = "partner", "Partner"
    SALES = "sales", "Sales-made"


class DemoSummary(models.Model):
    """One demo (a sandbox's use by its prospect, from ``demo_started``) as the dashboards count it, derived
    from the demo's events by ``demo_summaries_refresh``. It outlives the sandbox's record (``sandbox_id`` is a
    plain number) and, anonymous, the prospect's erasure (``user`` is then emptied)."""

    sandbox_id = models.BigIntegerField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    day = models.DateField(help_text="The day it started, in the dashboards' time zone.")
    product = models.CharField(max_length=30)
    industry = models.CharField(max_length=20)
    role = models.CharField(max_length=20, blank=True)
    partner = models.ForeignKey(
        "demoportal.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=12, choices=DemoSource.choices)
    completed = models.BooleanField(default=False, help_text="Its tour was finished (demo_completed).")
    abandoned = models.BooleanField(default=False, help_text="Left idle (demo_abandoned) and never completed.")
    pricing = models.PositiveIntegerField(default=0, help_text="Pricing requests made in it.")
    meetings = models.PositiveIntegerField(default=0, help_text="Sales calls booked from it.")
    pocs = models.PositiveIntegerField(default=0, help_text="Proofs of concept requested in it.")
    duration_seconds = models.PositiveIntegerField(default=0, help_text="Active time: the sum of its visits.")
    visits = models.PositiveSmallIntegerField(default=1)
    tour = models.CharField(max_length=60, blank=True)
    steps = models.JSONField(default=list, help_text="The tour's steps it reached, in the order reached.")
    features = models.JSONField(default=dict, help_text="Feature → how many times it was used.")
    exit_path = models.CharField(max_length=200, blank=True, help_text="The last page seen, for an abandoned demo.")
    refreshed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name_plural = "demos"
        verbose_name = "demo"
        # The days' rollups read a day's demos; the lists and exports read them in the order they started.
        indexes = [models.Index(fields=["day", "started_at"])]

    def __str__(self) -> str:
        return f"{self.product} / {self.industry} demo of {self.started_at:%Y-%m-%d}"

    @property
    def converted(self) -> bool:
        return bool(self.pricing or self.meetings or self.pocs)


class DemoStale(models.Model):
    """A mark that a demo's summary must be rebuilt: one row per event in a sandbox, inserted in the event's
    transaction and never updated, so writers take no lock on each other; the refresh deletes the marks it read
    once it has rebuilt their demos (``rollups_refresh``)."""

    sandbox_id = models.BigIntegerField(db_index=True)
    marked_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"sandbox {self.sandbox_id}, stale since {self.marked_at:%Y-%m-%d %H:%M:%S}"


class SegmentDay(models.Model):
    """What one day's demos of one segment (product × industry × role × partner × source) add up to."""

    day = models.DateField()
    product = models.CharField(max_length=30)
    industry = models.CharField(max_length=20)
    role = models.CharField(max_length=20, blank=True)
    partner = models.ForeignKey(
        "demoportal.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=12, choices=DemoSource.choices)

    class Meta:
        abstract = True


class DemoDay(SegmentDay):
    demos = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    converted = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    pricing = models.PositiveIntegerField(default=0)
    meetings = models.PositiveIntegerField(default=0)
    pocs = models.PositiveIntegerField(default=0)
    duration_seconds = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.product}/{self.industry}/{self.role}: {self.demos}"


class FeatureDay(SegmentDay):
    feature = models.CharField(max_length=100)
    demos = models.PositiveIntegerField(default=0, help_text="Demos that used it.")
    uses = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.product}/{self.industry}/{self.role}: {self.feature}"


class TourStepDay(SegmentDay):
    tour = models.CharField(max_length=60)
    step = models.CharField(max_length=60)
    reached = models.PositiveIntegerField(default=0)
    left = models.PositiveIntegerField(default=0, help_text="Abandoned demos whose last step reached this was.")
    position_sum = models.PositiveIntegerField(default=0, help_text="Σ the step's place in each demo's order.")

    class Meta:
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.product}/{self.industry}/{self.role}: {self.step}"


class ExitPageDay(SegmentDay):
    path = models.CharField(max_length=200)
    demos = models.PositiveIntegerField(default=0, help_text="Abandoned demos whose last page this was.")

    class Meta:
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.product}/{self.industry}/{self.role}: {self.path}"


class LeadDay(SegmentDay):
    """The leads made on one day in one segment (their first demo's product and industry, their role, partner
    and source), of one fit grade and one engagement band, as of the last lead snapshot (``leads_snapshot``).
    Engagement decays, so the rows are taken again whole by every refresh."""

    fit_grade = models.CharField(max_length=1)
    band = models.PositiveSmallIntegerField(help_text="The engagement band now: 1 is the first; 0 below it.")
    currency = models.CharField(max_length=3, blank=True, help_text="Of the opportunities' value; blank: none.")
    leads = models.PositiveIntegerField(default=0)
    mqls = models.PositiveIntegerField(default=0, help_text="Leads that ever qualified.")
    sqls = models.PositiveIntegerField(default=0, help_text="Leads sales ever accepted.")
    opportunities = models.PositiveIntegerField(default=0)
    opportunity_value = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.product}/{self.industry}/{self.role} {self.fit_grade}{self.band}: {self.leads}"


class AccountDay(SegmentDay):
    """One account's leads (people of one e-mail domain) made on one day in one segment, as of the last lead
    snapshot: the top accounts add these up over the range."""

    account_domain = models.CharField(max_length=253)
    people = models.PositiveIntegerField(default=0)
    engagement = models.FloatField(default=0, help_text="Σ their engagement at the snapshot.")
    mqls = models.PositiveIntegerField(default=0, help_text="Of them, at the MQL stage now.")
    sqls = models.PositiveIntegerField(default=0, help_text="… at the SQL stage now.")
    opportunities = models.PositiveIntegerField(default=0, help_text="… at the opportunity stage now.")
    last_activity_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.account_domain}: {self.people}"


class LeadSnapshot(models.Model):
    """When the lead rollups (``LeadDay``, ``AccountDay``) were last taken: one row."""

    taken_at = models.DateTimeField()
    leads = models.PositiveIntegerField(default=0, help_text="Leads read.")
    seconds = models.FloatField(default=0, help_text="How long it took.")

    def __str__(self) -> str:
        return f"Leads as of {self.taken_at:%Y-%m-%d %H:%M:%S}"


PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class LaunchTargets(models.Model):
    """The specification's post-launch targets and the launch date they count from: one row, edited in the
    admin by marketing."""

    launch_date = models.DateField(help_text="Actuals count from this day, in the dashboards' time zone.")
    demos_started_30 = models.PositiveIntegerField("demos started, 30 days", default=500)
    demos_started_90 = models.PositiveIntegerField("demos started, 90 days", default=2000)
    completion_rate_30 = models.DecimalField(
        "completion rate, 30 days (%)", max_digits=5, decimal_places=1, default=60, validators=PERCENT
    )
    completion_rate_90 = models.DecimalField(
        "completion rate, 90 days (%)", max_digits=5, decimal_places=1, default=70, validators=PERCENT
    )
    leads_generated_30 = models.PositiveIntegerField("leads generated, 30 days", default=200)
    leads_generated_90 = models.PositiveIntegerField("leads generated, 90 days", default=800)
    mql_rate_30 = models.DecimalField(
        "MQL rate, 30 days (%)", max_digits=5, decimal_places=1, default=25, validators=PERCENT
    )
    mql_rate_90 = models.DecimalField(
        "MQL rate, 90 days (%)", max_digits=5, decimal_places=1, default=30, validators=PERCENT
    )
    meetings_booked_30 = models.PositiveIntegerField("sales meetings booked, 30 days", default=50)
    meetings_booked_90 = models.PositiveIntegerField("sales meetings booked, 90 days", default=200)
    pipeline_30 = models.DecimalField("pipeline, 30 days (USD)", max_digits=14, decimal_places=0, default=5_000_000)
    pipeline_90 = models.DecimalField("pipeline, 90 days (USD)", max_digits=14, decimal_places=0, default=20_000_000)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "launch targets"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    completion_rate_30__lte=100, completion_rate_90__lte=100, mql_rate_30__lte=100, mql_rate_90__lte=100
                ),
                name="launch_targets_rates_are_percentages",
            ),
        ]

    def __str__(self) -> str:
        return f"Launch targets from {self.launch_date:%Y-%m-%d}"
