"""CPU per `location.ping` frame, in-process: the project's ASGI app (socket lanes, consumer, the
mapping handler and service, the coalesced push) through channels' WebsocketCommunicator, no HTTP
server, no office sockets. For A/B of a change run it in both trees, interleaved:

    DATABASE_URL=… REDIS_URL=… python bench/bench_position_frame.py           # N=400 frames, SOCKS=4
    PROF=1 SORT=tottime python bench/bench_position_frame.py                  # + cProfile, every thread

The CPU is the whole process's (time.process_time), the client side included (small). PROF=1 profiles
the event loop and each socket lane's thread by thread CPU time (cProfile's clock is time.thread_time).
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, os.getcwd() if os.environ.get("BENCH_TREE_CWD") else str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("WS_RATE_LIMIT", "100000")

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from hvaccrm.asgi import application

N, SOCKS = int(os.environ.get("N", "400")), int(os.environ.get("SOCKS", "4"))
PREFIX = "bench-frame-"


def _people() -> list[int]:
    from datetime import time as day_time

    from django.contrib.auth import get_user_model

    from hvaccrm.models import District, Technician

    User = get_user_model()
    User.objects.filter(username__startswith=PREFIX).delete()
    district = District.objects.get(slug="mokotow")
    users = User.objects.bulk_create([User(username=f"{PREFIX}{k}") for k in range(SOCKS)])
    Technician.objects.bulk_create(
        [
            Technician(
                user=u, home_district=district, on_shift=True, shift_start=day_time(0, 0), shift_end=day_time(23, 59)
            )
            for u in users
        ]
    )
    return [u.pk for u in users]


async def main() -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from hvaccrm.realtime.tickets import ticket_issue

    comms = []
    for user_id in await sync_to_async(_people)():
        comm = WebsocketCommunicator(application, f"/ws/?ticket={await sync_to_async(ticket_issue)(user_id=user_id)}")
        assert (await comm.connect(timeout=30))[0]
        await comm.receive_json_from(timeout=10)  # hello
        comms.append(comm)
    seq = 0

    async def one(comm) -> None:
        nonlocal seq
        seq += 1
        mine = str(seq)
        await comm.send_to(
            text_data=json.dumps(
                {
                    "type": "location.ping",
                    "id": mine,
                    "data": {
                        "latitude": 52.19 + seq * 0.00001,
                        "longitude": 21.02,
                        "accuracy": 8,
                        "device_time": timezone.now().isoformat(),
                        "seq": seq,
                    },
                }
            )
        )
        while (reply := await comm.receive_json_from(timeout=30)).get("id") != mine:
            pass
        assert reply["type"] == "ack" and reply["data"]["status"] == "stored", reply

    async def run(frames: int) -> None:
        for _ in range(frames // len(comms)):
            await asyncio.gather(*(one(c) for c in comms))

    await run(40)  # warm: connections, caches, the coalescing thread
    lanes = getattr(application.application_mapping["websocket"], "lanes", [])
    profiles = [cProfile.Profile(time.thread_time) for _ in range(len(lanes) + 1)] if os.environ.get("PROF") else []
    for profile, lane in zip(profiles, lanes, strict=False):
        lane.submit(profile.enable).result()
    if profiles:
        profiles[-1].enable()
    started = time.process_time()
    await run(N)
    cpu = time.process_time() - started
    for profile, lane in zip(profiles, lanes, strict=False):
        lane.submit(profile.disable).result()
    if profiles:
        profiles[-1].disable()
    print(f"{N} frames: {1000 * cpu / N:.2f} ms CPU per frame; load average {os.getloadavg()}", flush=True)
    for comm in comms:
        await comm.disconnect()
    await sync_to_async(get_user_model().objects.filter(username__startswith=PREFIX).delete)()
    if profiles:
        pstats.Stats(*profiles).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(40)


if __name__ == "__main__":
    asyncio.run(main())
