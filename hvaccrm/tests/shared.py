"""Where the reference data lives: ../shared/data beside the repository (as on developers'
machines and in CI), or SHARED_DATA. Tests need it; a missing folder is an error, not a skip."""

from __future__ import annotations

import os
from pathlib import Path


def shared_data() -> Path:
    candidates = [os.environ.get("SHARED_DATA", ""), Path(__file__).resolve().parents[2].parent / "shared" / "data",
                  "/work/shared/data"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    raise FileNotFoundError("reference data not found: set SHARED_DATA or place shared/data beside the repository")


SHARED_DATA = shared_data()
