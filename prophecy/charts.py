"""A small inline SVG chart of predicted demand per service type over the coming weeks (no JS,
so the strict CSP needs nothing)."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

COLOURS = {"installation": "#1f77b4", "maintenance": "#2ca02c", "repair": "#d62728", "inspection": "#9467bd"}


def demand_chart_svg(*, series: dict, width: int = 220, height: int = 70, threshold: float = 0.8) -> SafeString:
    """series: service type -> predictions ordered by week. Demand 0..1 on the y axis; the band
    around each line is the prediction interval scaled the same way; dashed line: the threshold."""
    pad = 4
    weeks = sorted({p.week_start for preds in series.values() for p in preds})
    if not weeks:
        return format_html("<svg width='{}' height='{}'></svg>", width, height)
    step = (width - 2 * pad) / max(1, len(weeks) - 1)

    def x(week) -> float:
        return pad + weeks.index(week) * step

    def y(value: float) -> float:
        return height - pad - max(0.0, min(1.0, value)) * (height - 2 * pad)

    parts = []
    for service, preds in series.items():
        colour = COLOURS.get(service, "#555")
        # Jobs to demand: hours per job over capacity (uncapped, so the band is not distorted).
        scale = [(p.job_hours / p.forecast_jobs / p.capacity_hours) if p.forecast_jobs and p.capacity_hours else 0.0
                 for p in preds]
        upper = " ".join(f"{x(p.week_start):.1f},{y(p.forecast_high * s):.1f}" for p, s in zip(preds, scale, strict=True))
        lower = " ".join(f"{x(p.week_start):.1f},{y(p.forecast_low * s):.1f}"
                         for p, s in reversed(list(zip(preds, scale, strict=True))))
        line = " ".join(f"{x(p.week_start):.1f},{y(p.predicted_demand):.1f}" for p in preds)
        parts.append((colour, f"{upper} {lower}", colour, line, service))
    body = format_html_join(
        "", "<polygon fill='{}' fill-opacity='0.15' points='{}'/>"
        "<polyline fill='none' stroke='{}' stroke-width='2' points='{}'><title>{}</title></polyline>", parts
    )
    return format_html(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' role='img'>"
        "<rect width='{w}' height='{h}' fill='#fafafa' stroke='#ddd'/>"
        "<line x1='0' x2='{w}' y1='{t}' y2='{t}' stroke='#999' stroke-dasharray='3,3'/>{body}</svg>",
        w=width, h=height, t=f"{y(threshold):.1f}", body=body,
    )


def history_forecast_svg(*, weeks: list, counts: list[float], predictions: list, width: int = 640,
                         height: int = 160) -> SafeString:
    """Weekly job counts (grey line) followed by the forecast (blue) and its 80 % band, on one
    axis of jobs per week; a dotted line marks where history ends. Server-rendered: no script."""
    pad_l, pad, pad_b = 30, 6, 16
    horizon = [p.week_start for p in predictions]
    axis = list(weeks) + [w for w in horizon if not weeks or w > weeks[-1]]
    if not axis:
        return format_html("<svg width='{}' height='{}'></svg>", width, height)
    top = max([1.0, *counts, *(p.forecast_high for p in predictions)])
    step = (width - pad_l - pad) / max(1, len(axis) - 1)
    position = {w: i for i, w in enumerate(axis)}

    def x(week) -> float:
        return pad_l + position[week] * step

    def y(value: float) -> float:
        return height - pad_b - max(0.0, value) / top * (height - pad - pad_b)

    history = " ".join(f"{x(w):.1f},{y(c):.1f}" for w, c in zip(weeks, counts, strict=True))
    band = " ".join([*(f"{x(p.week_start):.1f},{y(p.forecast_high):.1f}" for p in predictions),
                     *(f"{x(p.week_start):.1f},{y(p.forecast_low):.1f}" for p in reversed(predictions))])
    joined = ([(weeks[-1], counts[-1])] if weeks else []) + [(p.week_start, p.forecast_jobs) for p in predictions]
    forecast = " ".join(f"{x(w):.1f},{y(v):.1f}" for w, v in joined)
    split = x(weeks[-1]) if weeks else pad_l
    labels = format_html_join("", "<text x='{}' y='{}' font-size='9' fill='#666'>{}</text>", [
        (f"{x(w):.1f}", height - 3, w.strftime("%Y-%m")) for i, w in enumerate(axis) if i % 26 == 0
    ])
    return format_html(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' role='img'>"
        "<rect width='{w}' height='{h}' fill='#fafafa' stroke='#ddd'/>"
        "<text x='2' y='{ty}' font-size='9' fill='#666'>{top}</text><text x='2' y='{by}' font-size='9' fill='#666'>0</text>"
        "<line x1='{s}' x2='{s}' y1='0' y2='{h}' stroke='#999' stroke-dasharray='2,3'/>"
        "<polyline fill='none' stroke='#888' stroke-width='1' points='{history}'/>"
        "<polygon fill='#1f77b4' fill-opacity='0.2' points='{band}'/>"
        "<polyline fill='none' stroke='#1f77b4' stroke-width='2' points='{forecast}'/>{labels}</svg>",
        w=width, h=height, ty=pad + 8, by=height - pad_b, top=f"{top:.0f}", s=f"{split:.1f}",
        history=history, band=band, forecast=forecast, labels=labels,
    )
