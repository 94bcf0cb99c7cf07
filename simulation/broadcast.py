"""The simulator's ticks onto the channel layer: one message per watched sandbox, all sent at once.

Each tick carries ``seq``, its sandbox's tick number in this simulator process: a viewer that sees
a number skipped knows it missed a tick, and one that sees a lower number (with a later ``ts``)
knows the simulator restarted.
"""

from __future__ import annotations

import asyncio
from typing import Any

from simulation.live import live_group

# At most this many group sends in flight: each holds a Redis connection of the layer's pool while
# it waits, and the core layer's group_send is four round trips, so sending one after another costs
# 250 sandboxes × 4 round trips of waiting per tick.
SENDS_IN_FLIGHT = 32

_sequence: dict[int, int] = {}  # each sandbox's last tick number; restarts with the simulator process


def tick_sequence_next(sandbox_id: int) -> int:
    _sequence[sandbox_id] = _sequence.get(sandbox_id, 0) + 1
    return _sequence[sandbox_id]


async def ticks_send(channel_layer: Any, messages: dict[int, dict[str, Any]]) -> None:
    """Send each sandbox's tick message to its group ``live.<sandbox id>``, numbered, concurrently.

    Adds ``seq`` to every message (in place). A send that fails does not stop the others; the first
    failure is raised once all have been tried.
    """
    for sandbox_id, message in messages.items():
        message["seq"] = tick_sequence_next(sandbox_id)
    for gone in set(_sequence) - set(messages):
        del _sequence[gone]  # no longer watched: the next viewer starts a new sequence
    in_flight = asyncio.Semaphore(SENDS_IN_FLIGHT)

    async def send(sandbox_id: int, message: dict[str, Any]) -> None:
        async with in_flight:
            await channel_layer.group_send(live_group(sandbox_id), message)

    results = await asyncio.gather(
        *(send(sandbox_id, message) for sandbox_id, message in messages.items()), return_exceptions=True
    )
    failures = [result for result in results if isinstance(result, BaseException)]
    if failures:
        raise failures[0]
