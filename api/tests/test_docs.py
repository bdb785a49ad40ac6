"""The OpenAPI schema and its documentation pages: staff only, served from this server."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_docs_pages_load_their_assets_from_this_server(staff, client):
    client.force_login(staff)
    for path in ("/api/v1/docs/", "/api/v1/redoc/"):
        page = client.get(path)
        assert page.status_code == 200
        text = page.content.decode()
        assert "/static/drf_spectacular_sidecar/" in text
        assert "cdn" not in text.lower()
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200


def test_the_schema_is_openapi_3_and_for_staff_only(api):
    schema = api.get("/api/v1/schema/?format=json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/config" in schema["paths"]
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    assert APIClient().get("/api/v1/schema/").status_code in (401, 403)
