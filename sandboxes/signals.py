"""What a sandbox's lifecycle announces, for the apps above it to act on (the one-way house: docs/architecture.md).

``sandboxes`` sits beneath the plant (``simulation``) and the prospect's activity (``analytics``), yet its steps
start a plant and begin, extend and end a demo. It says so here and they listen (``simulation/receivers.py``,
``analytics/receivers.py``). Every signal is sent inside the step's transaction, so a receiver that fails rolls
the step back: a sandbox is never ready without its plant, nor a demo started without its event.
"""

from django.dispatch import Signal

# A sandbox's schema is at its scenario's start: just made (ready or pooled), claimed from the pool, or reset.
# Sent in the sandbox's schema. kwargs: sandbox (its ``seed`` and ``reset_at`` say which story and from when).
sandbox_started = Signal()

# A prospect's demo began in ``sandbox`` (``sandbox_provision``). kwargs: sandbox, from_pool, actor (who
# made it: the prospect, a partner user, or staff for the prospect; None for the system).
demo_started = Signal()

# Someone gave ``sandbox`` more time (``sandbox_extend``). kwargs: sandbox, hours, by_staff.
sandbox_extended = Signal()

# An ended sandbox's record is about to go (``sandboxes_purge``). kwargs: sandbox.
sandbox_purging = Signal()
