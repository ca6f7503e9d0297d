"""Real time over a working day, compressed: 1,000 sockets held open across many group expiries.

The sockets run through the project's ASGI application (consumer, tickets, presence) and the real
Redis channel layer, in this process (channels' WebsocketCommunicator: no HTTP server in between,
so the figures are the consumer's and Redis's, not daphne's). The group expiry is shortened so the
run crosses it many times; the heartbeat re-joins the groups.

    python bench/bench_realtime.py                # 1,000 sockets, 3 minutes, group expiry 6 s
    FULL=1 python bench/bench_realtime.py         # the same for 30 minutes
    SOCKETS=200 MINUTES=1 python bench/bench_realtime.py

Figures: pushes received / pushes owed while open (1.0 means no socket went deaf), and the
reconnect storm: the server closes all sockets at once (4000), they reconnect at once with fresh
tickets, and the clock stops when every socket has its hello and a push announced during the storm.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
os.environ.setdefault("DEBUG", "true")
EXPIRY = int(os.environ.get("BENCH_GROUP_EXPIRY", "6"))
os.environ["CHANNEL_GROUP_EXPIRY"] = str(EXPIRY)
os.environ["WS_HEARTBEAT_SECONDS"] = str(EXPIRY / 3)
os.environ.setdefault("WS_MAX_SOCKETS_PER_USER", "10")
os.environ.setdefault("WS_RATE_LIMIT", "100000")

import django  # noqa: E402

django.setup()

from asgiref.sync import sync_to_async  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.testing import WebsocketCommunicator  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402

from hvaccrm.asgi import application  # noqa: E402
from hvaccrm.realtime import events  # noqa: E402
from hvaccrm.realtime import groups as g  # noqa: E402
from hvaccrm.realtime.tickets import ticket_issue  # noqa: E402

SOCKETS = int(os.environ.get("SOCKETS", "1000"))
PER_USER = 10
MINUTES = 30.0 if os.environ.get("FULL") == "1" else float(os.environ.get("MINUTES", "3"))
PUSH_EVERY = 2.0  # seconds between push rounds (one push to every user's group)


def _users(n: int) -> list[int]:
    User = get_user_model()
    ids = []
    for i in range(n):
        user, _ = User.objects.get_or_create(username=f"bench-rt-{i}", defaults={"is_active": True})
        ids.append(user.pk)
    return ids


class Socket:
    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.comm: WebsocketCommunicator | None = None
        self.ids: set[int] = set()
        self.hello = asyncio.Event()
        self.reader: asyncio.Task | None = None

    async def open(self) -> None:
        self.hello = asyncio.Event()
        ticket = await sync_to_async(ticket_issue)(user_id=self.user_id)
        self.comm = WebsocketCommunicator(application, f"/ws/?ticket={ticket}")
        connected, _ = await self.comm.connect(timeout=60)
        assert connected
        self.reader = asyncio.ensure_future(self._read(self.comm))

    async def _read(self, comm) -> None:
        while True:
            message = await comm.output_queue.get()
            if message["type"] == "websocket.close":
                return
            frame = json.loads(message.get("text") or "{}")
            if frame.get("type") == "hello":
                self.hello.set()
            elif frame.get("type") == "job.updated":
                self.ids.add(frame["id"])


async def main() -> None:
    layer = get_channel_layer()
    users = await sync_to_async(_users)(max(1, SOCKETS // PER_USER))
    sockets = [Socket(users[i % len(users)]) for i in range(SOCKETS)]
    started = time.monotonic()
    for chunk in range(0, len(sockets), 100):
        await asyncio.gather(*(s.open() for s in sockets[chunk:chunk + 100]))
    await asyncio.gather(*(asyncio.wait_for(s.hello.wait(), 60) for s in sockets))
    print(f"{SOCKETS} sockets of {len(users)} users open in {time.monotonic() - started:.1f} s; group expiry "
          f"{EXPIRY} s, heartbeat {EXPIRY / 3:.1f} s, run {MINUTES:.1f} min", flush=True)

    owed = 0
    row = 0
    deadline = time.monotonic() + MINUTES * 60
    while time.monotonic() < deadline:
        row += 1
        event = events.make_event("job.updated", row_id=row, data={})
        await asyncio.gather(*(layer.group_send(g.user_group(u), {"type": "realtime.push", "event": event})
                               for u in users))
        owed += SOCKETS
        await asyncio.sleep(PUSH_EVERY)
    await asyncio.sleep(2)
    received = sum(len(s.ids) for s in sockets)
    deaf = sum(1 for s in sockets if len(s.ids) < row)
    print(f"pushes: {row} rounds, {received} received / {owed} owed = {received / owed:.4f} "
          f"({deaf} sockets missed any; {MINUTES * 60 / EXPIRY:.0f} group expiries crossed)", flush=True)

    # Reconnect storm: every socket closed by the server at once, all reconnect at once.
    storm_row = row + 1
    t0 = time.monotonic()
    await asyncio.gather(*(layer.group_send(g.user_group(u), {"type": "realtime.close", "code": 4000})
                           for u in users))
    await asyncio.gather(*(asyncio.wait_for(s.reader, 60) for s in sockets))
    # The browser answers the server's close; then the server runs disconnect (slot released).
    await asyncio.gather(*(s.comm.disconnect() for s in sockets))
    await asyncio.gather(*(s.open() for s in sockets))
    await asyncio.gather(*(asyncio.wait_for(s.hello.wait(), 120) for s in sockets))
    reconnected = time.monotonic() - t0
    event = events.make_event("job.updated", row_id=storm_row, data={})
    await asyncio.gather(*(layer.group_send(g.user_group(u), {"type": "realtime.push", "event": event})
                           for u in users))
    while not all(storm_row in s.ids for s in sockets):
        if time.monotonic() - t0 > 180:
            break
        await asyncio.sleep(0.05)
    caught = sum(1 for s in sockets if storm_row in s.ids)
    print(f"reconnect storm: {SOCKETS} sockets back (hello) in {reconnected:.2f} s; {caught}/{SOCKETS} "
          f"hearing their groups again after {time.monotonic() - t0:.2f} s", flush=True)
    for s in sockets:
        await s.comm.disconnect()


if __name__ == "__main__":
    asyncio.run(main())
