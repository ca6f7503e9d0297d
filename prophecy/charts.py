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
