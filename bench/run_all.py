"""`make bench`: migrate a dedicated database, then run every bench/bench_*.py and print its figures."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    env = dict(os.environ)
    env.setdefault("DEBUG", "true")
    env.setdefault("CACHE_KEY_PREFIX", "bench")
    env.setdefault("CHANNEL_PREFIX", "bench")
    env.setdefault("CELERY_QUEUE", "bench")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    only = sys.argv[1:]
    failed = 0
    for script in sorted((ROOT / "bench").glob("bench_*.py")):
        if only and not any(o in script.name for o in only):
            continue
        print(f"\n=== {script.name} ===", flush=True)
        started = time.monotonic()
        code = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env).returncode
        print(f"--- {script.name}: exit {code}, {time.monotonic() - started:.1f} s", flush=True)
        failed += code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
