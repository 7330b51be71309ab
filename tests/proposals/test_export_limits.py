"""Exports are streamed whole and never cached: each address gets a bounded number a minute,
per format."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def app_config(app_config):
    app_config["RATELIMIT_ENABLED"] = True
    return app_config


def _export(client, extension: str, address: str) -> int:
    """Download an export whole (a streamed body must be read) and return its status."""
    url = f"/consultations/ue2/propositions.{extension}"
    response = client.get(url, environ_base={"REMOTE_ADDR": address})
    response.get_data()
    response.close()
    return response.status_code


def test_the_twenty_first_export_in_a_minute_gets_429(client, db):
    factories.make_consultation(slug="ue2")
    db.session.commit()
    for _number in range(20):
        assert _export(client, "csv", "198.51.100.7") == 200
    assert _export(client, "csv", "198.51.100.7") == 429
    # Each format has its own allowance; other addresses are not held back.
    assert _export(client, "json", "198.51.100.7") == 200
    assert _export(client, "csv", "198.51.100.8") == 200
