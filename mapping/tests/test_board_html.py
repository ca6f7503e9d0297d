"""The day board's rows made in Python (mapping/board_html.py) are the markup the template loop made,
and the board's reads stay cheap: no model instances per technician or stop, no district boundary."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.template import engines
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.html import format_html_join

from hvaccrm.models import Technician
from hvaccrm.tests.factories import ServiceJobFactory, TechnicianFactory
from mapping import selectors
from mapping.board_html import board_rows_html, technician_options_html
from mapping.models import DayPlan, Route, RouteStop

pytestmark = pytest.mark.django_db

# The loop board.html had before issue 21 (rows of Technician instances), kept here as the reference.
TEMPLATE_LOOP = """{% load i18n %}  {% for row in rows %}
    <tr data-technician="{{ row.technician.pk }}">
      <th scope="row">{{ row.technician }}<br><small>{{ row.technician.home_district }} · {{ row.shift.0|time:"H:i" }}–{{ row.shift.1|time:"H:i" }}</small></th>
      <td class="lane">{% for stop in row.route.stops %}<a class="stop stop-{{ stop.status }}{% if stop.fixed %} fixed{% endif %}" data-job="{{ stop.job }}"{% if not stop.fixed %} draggable="true"{% endif %} href="{% url 'admin:hvaccrm_servicejob_change' stop.job %}" data-start="{{ stop.start }}" data-end="{{ stop.end }}" title="#{{ stop.job }} ETA {{ stop.eta|slice:'11:16' }}">#{{ stop.job }} {{ stop.eta|slice:"11:16" }}</a>{% empty %}<span class="muted">{% translate "no stops" %}</span>{% endfor %}</td>
    </tr>
  {% endfor %}"""


def _day_with_stops():
    """Three technicians (one named with markup characters, one with only a username, one without
    stops) and a plan with a fixed and two movable stops."""
    day = timezone.localdate() + timedelta(days=3)
    named = TechnicianFactory(shift_start=time(7, 30), shift_end=time(15, 5))
    named.user.first_name, named.user.last_name = "Zoë & <Ola>", 'O\'Brien "Ł"'
    named.user.save()
    bare = TechnicianFactory()
    bare.user.first_name = bare.user.last_name = ""
    bare.user.save()
    TechnicianFactory()  # no route: "no stops"
    plan = DayPlan.objects.create(day=day)
    tz = timezone.get_current_timezone()
    for tech, jobs in ((named, 2), (bare, 1)):
        route = Route.objects.create(plan=plan, technician=tech, travel_s=600)
        for seq in range(jobs):
            start = timezone.make_aware(datetime.combine(day, time(9 + seq)), tz)
            RouteStop.objects.create(
                route=route,
                job=ServiceJobFactory(),
                sequence=seq,
                eta=start,
                service_start=start,
                service_end=start + timedelta(minutes=45),
                fixed=seq == 1,
            )
    return day, named, bare


@pytest.mark.parametrize("language", ["pl", "en"])
def test_the_rows_made_in_python_are_the_markup_of_the_template_loop(language):
    day, _named, _bare = _day_with_stops()
    with translation.override(language):
        rows = selectors.board_rows(day=day)["rows"]
        # The reference renders real Technician instances, as the template did.
        techs = Technician.objects.select_related("user", "home_district").in_bulk([r["technician"].pk for r in rows])
        reference_rows = [{**row, "technician": techs[row["technician"].pk]} for row in rows]
        reference = engines["django"].from_string(TEMPLATE_LOOP).render({"rows": reference_rows})
        made = "  " + board_rows_html(rows=rows)
    assert made == reference
    options = format_html_join(
        "", '<option value="{}">{}</option>', ((r["technician"].pk, str(techs[r["technician"].pk])) for r in rows)
    )
    assert technician_options_html(rows=rows) == options
    assert "Zo&#x27;" not in made and "Zoë &amp; &lt;Ola&gt;" in made  # escaped once, like the template


def test_board_and_plan_name_technicians_as_str_of_technician_does():
    day, named, bare = _day_with_stops()
    rows = {r["technician"].pk: r for r in selectors.board_rows(day=day)["rows"]}
    plan = {r["technician"]: r for r in selectors.day_plan_get(day=day)["routes"]}
    for tech in (Technician.objects.get(pk=named.pk), Technician.objects.get(pk=bare.pk)):
        assert str(rows[tech.pk]["technician"]) == str(tech) == plan[tech.pk]["name"]
        assert rows[tech.pk]["technician"].home_district == tech.home_district.name
    assert str(Technician.objects.get(pk=bare.pk)) == bare.user.username


def test_the_board_reads_no_district_boundary_and_a_fixed_number_of_queries(dispatcher, django_assert_max_num_queries):
    day, _named, _bare = _day_with_stops()
    http = Client()
    http.force_login(dispatcher)
    url = f"/mapping/board/?day={day.isoformat()}"
    http.get(url)
    with CaptureQueriesContext(connection) as small:
        assert http.get(url).status_code == 200
    for _ in range(10):
        TechnicianFactory()
    with django_assert_max_num_queries(len(small.captured_queries)), CaptureQueriesContext(connection) as grown:
        page = http.get(url).content.decode()
    assert page.count('<tr data-technician="') == Technician.objects.filter(active=True).count()
    assert not [q["sql"] for q in grown.captured_queries if '"hvaccrm_district"."geometry"' in q["sql"]]
