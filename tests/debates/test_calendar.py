"""iCalendar feeds, parsed back with the icalendar library."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from consultation.core.models import utcnow
from consultation.debates import services
from consultation.debates.models import DebateFormat
from tests import factories
from tests.debates.helpers import make_debate


@pytest.fixture
def consultation(db):
    return factories.make_consultation(slug="ue2")


def _parse(response) -> Calendar:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.get_data())


def test_the_feed_lists_public_debates_in_paris_time(client, db, consultation):
    published = make_debate(consultation, title="Publié", capacity=20)
    online = make_debate(
        consultation, format=DebateFormat.ONLINE, venue="", online_url="https://visio.example"
    )
    make_debate(consultation, status="draft", title="Brouillon")
    cancelled = make_debate(consultation, status="cancelled", title="Annulé")
    db.session.commit()
    calendar = _parse(client.get("/consultations/ue2/debats.ics"))
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    assert calendar["METHOD"] == "PUBLISH"
    [timezone] = calendar.walk("VTIMEZONE")
    assert timezone["TZID"] == "Europe/Paris"
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    host = "debats.example.org"
    assert set(events) == {f"debate-{d.id}@{host}" for d in (published, online, cancelled)}
    event = events[f"debate-{published.id}@{host}"]
    assert str(event["SUMMARY"]) == "Publié"
    assert event["STATUS"] == "CONFIRMED"
    assert event["DTSTART"].dt == published.starts_at
    assert event["DTEND"].dt == published.ends_at
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert str(event["LOCATION"]) == published.venue
    assert str(event["URL"]) == f"https://{host}/consultations/ue2/debats/{published.id}"
    assert "DTSTAMP" in event and int(event["SEQUENCE"]) == 0
    assert "https://visio.example" in str(events[f"debate-{online.id}@{host}"]["LOCATION"])
    assert events[f"debate-{cancelled.id}@{host}"]["STATUS"] == "CANCELLED"


def test_the_feed_of_one_region(client, db, consultation):
    here = make_debate(consultation, region_code="52")
    make_debate(consultation, region_code="11")
    db.session.commit()
    calendar = _parse(client.get("/consultations/ue2/debats.ics?region=52"))
    assert [str(e["UID"]) for e in calendar.walk("VEVENT")] == [
        f"debate-{here.id}@debats.example.org"
    ]


def test_an_unknown_region_in_the_feed_is_a_readable_400(client, db, consultation):
    db.session.commit()
    response = client.get("/consultations/ue2/debats.ics?region=99")
    assert response.status_code == 400
    assert "There is no region with the code “99”." in response.get_data(as_text=True)


def test_an_empty_feed_is_still_a_valid_calendar(client, db, consultation):
    db.session.commit()
    calendar = _parse(client.get("/consultations/ue2/debats.ics"))
    assert calendar.walk("VEVENT") == []


def test_the_uid_is_stable_and_the_sequence_rises_with_each_change(client, db, consultation):
    editor = factories.make_user("regional_editor")
    debate = make_debate(consultation, status="draft")
    services.publish_debate(debate, editor)
    db.session.commit()
    first = _parse(client.get(f"/consultations/ue2/debats/{debate.id}.ics"))
    [before] = first.walk("VEVENT")
    start = utcnow().replace(microsecond=0) + timedelta(days=9)
    services.update_debate(
        debate,
        services.DebateInput(
            title="Nouvelle date",
            description="",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            format=DebateFormat.IN_PERSON,
            venue="Nantes",
        ),
        editor,
    )
    db.session.commit()
    # The page cache must not serve the old file.
    [after] = _parse(client.get(f"/consultations/ue2/debats/{debate.id}.ics")).walk("VEVENT")
    assert after["UID"] == before["UID"]
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert str(after["SUMMARY"]) == "Nouvelle date"
    services.cancel_debate(debate, "Annulé", editor)
    db.session.commit()
    [cancelled] = _parse(client.get("/consultations/ue2/debats.ics")).walk("VEVENT")
    assert cancelled["STATUS"] == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == int(after["SEQUENCE"]) + 1


def test_a_draft_has_no_ics(client, db, consultation, sign_in):
    debate = make_debate(consultation, status="draft")
    db.session.commit()
    assert client.get(f"/consultations/ue2/debats/{debate.id}.ics").status_code == 404
    editor = sign_in("regional_editor")
    assert editor.get(f"/consultations/ue2/debats/{debate.id}.ics").status_code == 404


def test_the_feed_costs_a_constant_number_of_queries(app, client, db, consultation, count_queries):
    app.config["PAGE_CACHE_ENABLED"] = False
    make_debate(consultation)
    db.session.commit()
    with count_queries() as few:
        client.get("/consultations/ue2/debats.ics")
    for region in ("52", "11", "84", "76"):
        for _ in range(5):
            make_debate(consultation, region_code=region)
    db.session.commit()
    with count_queries() as many:
        response = client.get("/consultations/ue2/debats.ics")
    assert len(_parse(response).walk("VEVENT")) == 21
    assert len(many) == len(few)
