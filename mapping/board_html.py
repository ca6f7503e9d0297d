"""The day board's technician rows and technician options as HTML, made in Python: the board's hot
path (issue 21).

The board is reloaded by every open office page on each job.updated / route.updated push, and has a
row per active technician (212 in the load suite) and a select of every technician per tray job.
The template's loop over rows and stops, with a variable lookup, filter and autoescape per field
and a `{% url %}` per stop, was most of the page's CPU. Here every value is escaped by `_e` (the
standard library's `html.escape`, which Django's `escape` calls for a str, without the lazy-string
check around it: ~2,500 calls a page) and the markup is joined once. It is the markup
mapping/static/mapping/board.js reads (data-technician, data-job, data-start/end, draggable); a test
holds it byte for byte to the template loop it replaced (mapping/tests/test_board_html.py).
"""

from __future__ import annotations

from datetime import time
from html import escape
from typing import Any

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

# A job id that no real job has, replaced by each stop's id: one reverse() a page, not one a stop.
_PLACEHOLDER = 2_147_000_111


def _e(value: object) -> str:
    """What the template's autoescape shows for a plain value (str, int, a model's str())."""
    return escape(str(value))


def _clock(value: time | None) -> str:
    """What `{{ value|time:"H:i" }}` shows."""
    return value.strftime("%H:%M") if value is not None else ""


def _stop(stop: dict[str, Any], job_url: str) -> str:
    job, eta = _e(stop["job"]), _e(str(stop["eta"])[11:16])
    fixed = " fixed" if stop["fixed"] else ""
    drag = "" if stop["fixed"] else ' draggable="true"'
    href = _e(job_url.replace(str(_PLACEHOLDER), str(stop["job"])))
    return (
        f'<a class="stop stop-{_e(stop["status"])}{fixed}" data-job="{job}"{drag} href="{href}" '
        f'data-start="{_e(stop["start"])}" data-end="{_e(stop["end"])}" title="#{job} ETA {eta}">#{job} {eta}</a>'
    )


def board_rows_html(*, rows: list[dict[str, Any]]) -> SafeString:
    """The `<tbody>` rows of the board (board.html): technician, home district, shift, then a lane of
    stops (or "no stops"). Each row is preceded by a newline and followed by one and the loop's
    indentation, as the template loop wrote them."""
    job_url = reverse("admin:hvaccrm_servicejob_change", args=[_PLACEHOLDER])
    no_stops = f'<span class="muted">{_e(gettext("no stops"))}</span>'
    out = []
    for row in rows:
        tech, (start, end) = row["technician"], row["shift"]
        stops = row["route"]["stops"]
        lane = "".join(_stop(stop, job_url) for stop in stops) if stops else no_stops
        out.append(
            f'\n    <tr data-technician="{_e(tech.pk)}">\n'
            f'      <th scope="row">{_e(tech)}<br><small>{_e(tech.home_district)} · '
            f"{_clock(start)}–{_clock(end)}</small></th>\n"
            f'      <td class="lane">{lane}</td>\n'
            "    </tr>\n  "
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above went through _e


def technician_options_html(*, rows: list[dict[str, Any]]) -> SafeString:
    """`<option value="id">name</option>` per row's technician: the select every tray job offers
    (made once a page, not once a job)."""
    options = "".join(f'<option value="{_e(row["technician"].pk)}">{_e(row["technician"])}</option>' for row in rows)
    return mark_safe(options)  # noqa: S308 - both values escaped
