"""counter/views.py: the JSON API's shapes, on the real engine."""

import pytest

pytestmark = pytest.mark.dynamodb_local


def test_get_returns_zero_before_any_view(client, ddb_table):
    response = client.get("/api/count")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"count": 0}


def test_post_counts_and_returns_the_new_total(client, ddb_table):
    assert client.post("/api/count").json() == {"count": 1}
    assert client.post("/api/count").json() == {"count": 2}
    assert client.get("/api/count").json() == {"count": 2}


def test_get_does_not_count(client, ddb_table):
    client.get("/api/count")
    client.get("/api/count")
    assert client.get("/api/count").json() == {"count": 0}


def test_post_needs_no_csrf_token(ddb_table):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/api/count").status_code == 200


def test_post_ignores_a_malformed_body(client, ddb_table):
    response = client.post("/api/count", data="{not json", content_type="application/json")
    assert response.json() == {"count": 1}


def test_api_responses_are_never_cached(client, ddb_table):
    assert "no-store" in client.post("/api/count")["Cache-Control"]


@pytest.mark.parametrize("method", ["put", "patch", "delete", "options"])
def test_other_methods_get_405_json(client, method):
    response = getattr(client, method)("/api/count")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"
    assert "not allowed" in response.json()["error"]


def test_post_records_the_visitor_without_storing_the_ip(client, ddb_table):
    from counter import services

    client.post("/api/count", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Browser A")
    client.post("/api/count", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Browser A")
    client.post("/api/count", REMOTE_ADDR="203.0.113.10", HTTP_USER_AGENT="Browser A")
    today = services.days_stats(days=1)[0]
    assert (today.views, today.uniques) == (3, 2)
