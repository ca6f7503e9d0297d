"""Travel times between points: great-circle distance x detour factor at district- and hour-dependent
speeds, or an OSRM-compatible /table service when ROUTING_URL is set. No Django models here."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Sequence

import numpy as np

from hvaccrm.geo import EARTH_RADIUS_M, haversine_m
from mapping.solver import TimeBands

logger = logging.getLogger(__name__)

# Typical door-to-door driving speeds (km/h) in each district: dense centre slow, outskirts faster.
DISTRICT_SPEED_KMH: dict[str, float] = {
    "srodmiescie": 18, "wola": 22, "ochota": 22, "mokotow": 24, "zoliborz": 24, "praga-polnoc": 22,
    "praga-poludnie": 26, "targowek": 28, "bielany": 28, "bemowo": 30, "wlochy": 30, "ursynow": 30,
    "wilanow": 30, "bialoleka": 32, "ursus": 32, "rembertow": 36, "wawer": 36, "wesola": 38,
}  # fmt: skip
DEFAULT_SPEED_KMH = 30.0


def hour_factor(hour: int) -> float:
    """Rush hours in Warsaw (7-9, 15-18) slow traffic down; nights are faster."""
    if 7 <= hour < 9 or 15 <= hour < 18:
        return 0.75
    if hour >= 21 or hour < 6:
        return 1.25
    return 1.0


def speed_kmh(district_a: str | None, district_b: str | None, hour: int) -> float:
    sa = DISTRICT_SPEED_KMH.get(district_a or "", DEFAULT_SPEED_KMH)
    sb = DISTRICT_SPEED_KMH.get(district_b or "", DEFAULT_SPEED_KMH)
    return (sa + sb) / 2 * hour_factor(hour)


def matrix_haversine(
    points: Sequence[tuple[float, float]],
    districts: Sequence[str | None],
    *,
    hours: Sequence[int] = (8, 9, 10, 11, 12, 13, 14, 15),
    detour: float = 1.35,
) -> list[list[int]]:
    """Seconds between every pair of (lat, lng): distance x detour / speed, averaged over `hours`
    (one matrix serves the whole day, so the hour dependence is the mean over the working day)."""
    mean_factor = sum(hour_factor(h) for h in hours) / len(hours)
    n = len(points)
    out = [[0] * n for _ in range(n)]
    for i in range(n):
        la, lo = points[i]
        for j in range(i + 1, n):
            metres = haversine_m(la, lo, *points[j]) * detour
            kmh = speed_kmh(districts[i], districts[j], 12) * mean_factor
            seconds = round(metres / (kmh / 3.6))
            out[i][j] = out[j][i] = seconds
    return out


def matrix_osrm(points: Sequence[tuple[float, float]], *, base_url: str, timeout: float = 5.0) -> list[list[int]]:
    """Seconds from an OSRM-compatible server's table service (`/table/v1/driving/lng,lat;...`)."""
    coords = ";".join(f"{lng:.6f},{lat:.6f}" for lat, lng in points)
    url = f"{base_url.rstrip('/')}/table/v1/driving/{coords}?annotations=duration"
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - configured service URL
        body = json.loads(resp.read().decode("utf-8"))
    if body.get("code") != "Ok" or "durations" not in body:
        raise ValueError(f"routing server answered {body.get('code')!r}")
    return [[round(x or 0) for x in row] for row in body["durations"]]


def matrix_for(
    points: Sequence[tuple[float, float]],
    districts: Sequence[str | None],
    *,
    routing_url: str = "",
    detour: float = 1.35,
    timeout: float = 5.0,
) -> tuple[list[list[int]], str]:
    """The matrix and where it came from ("osrm" or "haversine"); OSRM failures fall back."""
    routed = _osrm_or_none(points, routing_url=routing_url, timeout=timeout)
    if routed is not None:
        return routed, "osrm"
    return matrix_haversine(points, districts, detour=detour), "haversine"


def _osrm_or_none(points: Sequence[tuple[float, float]], *, routing_url: str, timeout: float) -> list[list[int]] | None:
    if routing_url and len(points) > 1:
        try:
            return matrix_osrm(points, base_url=routing_url, timeout=timeout)
        except Exception:  # an unreachable routing server must not stop planning
            logger.warning("routing server failed; using great-circle estimates", exc_info=True)
    return None


# The hours at which the speed model's hour factor changes, with the band's name: travel times are
# one matrix per band (bands with the same factor share it), chosen by the hour of departure.
HOUR_BANDS: tuple[tuple[int, str], ...] = (
    (0, "night"), (6, "early"), (7, "morning_peak"), (9, "midday"), (15, "evening_peak"), (18, "evening"),
    (21, "night"),
)


def _seconds_at_factor_one(points: Sequence[tuple[float, float]], districts: Sequence[str | None],
                           detour: float) -> np.ndarray:
    """Seconds between every pair at midday speeds (hour factor 1), vectorised."""
    if not points:
        return np.zeros((0, 0))
    arr = np.radians(np.asarray(points, dtype=float))
    lat, lng = arr[:, 0], arr[:, 1]
    dlat = lat[:, None] - lat[None, :]
    dlng = lng[:, None] - lng[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlng / 2) ** 2
    metres = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(1.0, a))) * detour
    speed = np.array([DISTRICT_SPEED_KMH.get(d or "", DEFAULT_SPEED_KMH) for d in districts])
    kmh = (speed[:, None] + speed[None, :]) / 2
    return metres / (kmh / 3.6)


def _bands(base_s: np.ndarray) -> TimeBands:
    factors = [hour_factor(h) for h, _name in HOUR_BANDS]
    by_factor = {f: np.rint(base_s / f).astype(np.int64) for f in sorted(set(factors))}
    return TimeBands(starts=tuple(h * 3600 for h, _n in HOUR_BANDS),
                     matrices=tuple(by_factor[f] for f in factors), names=tuple(n for _h, n in HOUR_BANDS))


def bands_haversine(points: Sequence[tuple[float, float]], districts: Sequence[str | None], *,
                    detour: float = 1.35) -> TimeBands:
    """Seconds between every pair for each hour band of the district speed model."""
    return _bands(_seconds_at_factor_one(points, districts, detour))


def bands_for(points: Sequence[tuple[float, float]], districts: Sequence[str | None], *, routing_url: str = "",
              detour: float = 1.35, timeout: float = 5.0) -> tuple[TimeBands, str]:
    """Travel times by hour band and where they came from. An OSRM-compatible router knows no hour:
    its times are taken as midday ones and scaled by the speed model's hour factors."""
    routed = _osrm_or_none(points, routing_url=routing_url, timeout=timeout)
    if routed is not None:
        return _bands(np.asarray(routed, dtype=float)), "osrm"
    return bands_haversine(points, districts, detour=detour), "haversine"
