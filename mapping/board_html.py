"""The day board's technician rows as HTML, made in Python: the board's hot path (issue 21).

The board is reloaded by every open office page on each job.updated / route.updated push, and has a
row per active technician (212 in the load suite). The template's loop over rows and stops, with a
variable lookup, filter and autoescape per field and a `{% url %}` per stop, was most of the page's
CPU; one `format_html` per row gives the same markup for a fraction of it. The markup is the one
mapping/static/mapping/board.js reads (data-technician, data-job, data-start/end, draggable), and a
test holds it byte for byte to the template loop it replaced
(mapping/tests/test_board_html.py).
"""

from __future__ import annotations

from datetime import time
from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

# A job id that no real job has, replaced by each stop's id: one reverse() a page, not one a stop.
_PLACEHOLDER = 2_147_000_111


def _clock(value: time | None) -> str:
    """What `{{ value|time:"H:i" }}` shows."""
    return value.strftime("%H:%M") if value is not None else ""


def _stop(stop: dict[str, Any], job_url: str) -> SafeString:
    fixed = stop["fixed"]
    eta = str(stop["eta"])[11:16]
    return format_html(
        '<a class="stop stop-{}{}" data-job="{}"{} href="{}" data-start="{}" data-end="{}" title="#{} ETA {}">'
        "#{} {}</a>",
        stop["status"],
        " fixed" if fixed else "",
        stop["job"],
        "" if fixed else mark_safe(' draggable="true"'),
        job_url.replace(str(_PLACEHOLDER), str(stop["job"])),
        stop["start"],
        stop["end"],
        stop["job"],
        eta,
        stop["job"],
        eta,
    )


def board_rows_html(*, rows: list[dict[str, Any]]) -> SafeString:
    """The `<tbody>` rows of the board (board.html): technician, home district, shift, then a lane of
    stops (or "no stops"). Each row is preceded by a newline and followed by one and the loop's
    indentation, as the template loop wrote them."""
    job_url = reverse("admin:hvaccrm_servicejob_change", args=[_PLACEHOLDER])
    no_stops = format_html('<span class="muted">{}</span>', gettext("no stops"))
    out = []
    for row in rows:
        tech, (start, end) = row["technician"], row["shift"]
        stops = row["route"]["stops"]
        # Each stop went through format_html: joined, the lane is safe.
        lane = mark_safe("".join(_stop(stop, job_url) for stop in stops)) if stops else no_stops  # noqa: S308
        out.append(
            format_html(
                '\n    <tr data-technician="{}">\n'
                '      <th scope="row">{}<br><small>{} · {}–{}</small></th>\n'
                '      <td class="lane">{}</td>\n'
                "    </tr>\n  ",
                tech.pk,
                tech,
                tech.home_district,
                _clock(start),
                _clock(end),
                lane,
            )
        )
    return mark_safe("".join(out))  # noqa: S308 - every part above went through format_html
