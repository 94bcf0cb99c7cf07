"""The simulator's ticks onto the channel layer: one message per watched sandbox, all sent at once.

Each tick carries ``seq``, its sandbox's tick number in this simulator process: a viewer that sees
a number skipped knows it missed a tick, and one that sees a lower number (with a later ``ts``)
knows the simulator restarted.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer

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
    if isinstance(channel_layer, RedisPubSubChannelLayer):
        await pubsub_publish_all(channel_layer, messages)
        return
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


async def pubsub_publish_all(channel_layer: RedisPubSubChannelLayer, messages: dict[int, dict[str, Any]]) -> None:
    """What ``group_send`` does for each message, as one pipeline of PUBLISHes per Redis shard.

    ``group_send`` publishes one message per round trip, under the shard's lock; 250 sandboxes
    queued ~50 ms of round trips behind each tick on loopback (docs/benchmarks.md). This uses the
    layer's own naming, sharding, serialisation and connection (channels_redis 4.3's
    ``RedisPubSubLoopLayer``); tests/simulation/test_live.py runs it against the real layer.
    """
    layer = channel_layer._get_layer()
    by_shard: dict[Any, list[tuple[str, bytes]]] = {}
    for sandbox_id, message in messages.items():
        group_channel = layer._get_group_channel_name(live_group(sandbox_id))
        shard = layer._get_shard(group_channel)
        by_shard.setdefault(shard, []).append((group_channel, channel_layer.serialize(message)))
    for shard, publishes in by_shard.items():
        async with shard._lock:
            shard._ensure_redis()
            pipe = shard._redis.pipeline(transaction=False)
            for group_channel, data in publishes:
                pipe.publish(group_channel, data)
            await pipe.execute()
