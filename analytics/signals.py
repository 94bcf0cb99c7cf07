"""What scoring announces, for the apps above it to act on (the one-way house: docs/architecture.md).

``crm`` sits above ``analytics`` and delivers leads to the CRMs when something worth telling them happens; it
listens here (``crm/receivers.py``). Sent inside the transaction that stored the event and the lead's new
score, so what a receiver writes (the CRM outbox row) commits or rolls back with them.
"""

from django.dispatch import Signal

# ``lead`` was scored again because of ``event`` (``event_record`` → ``lead_refresh``). kwargs: lead, event (the
# Event that caused it, or None when scored for another reason), told (what Sales are told of it: a new MQL, a
# hand-raise; empty for the ordinary event).
lead_scored = Signal()
