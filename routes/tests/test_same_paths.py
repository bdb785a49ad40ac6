"""Two patterns that match the same paths are the same route (issue 9, item 13).

`/api/orders/{id}` and `/api/orders/{order_id}` on one domain used to be both accepted; the
second never matched, a grant onto it succeeded, and deleting the first silently made the
second's rules apply. Now the second is refused everywhere: the services (and so the API), the
commands, the admin form, and the database itself.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from core.actor import Actor
from routes import patterns
from routes.models import Route
from routes.services import create_route, update_route
from routes.tests.test_admin import form_data

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


@pytest.mark.parametrize(
    ("pattern", "canonical"),
    [
        ("/api/orders/{id}", "/api/orders/{}"),
        ("/api/{a}/x/{b}/*", "/api/{}/x/{}/*"),
        ("/api/orders", "/api/orders"),
        ("/", "/"),
        ("/*", "/*"),
        ("/api/x{y", "/api/x{y"),
    ],
)
def test_the_canonical_pattern_leaves_placeholders_unnamed(pattern, canonical):
    assert patterns.canonical_pattern(pattern) == canonical


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("/api/orders/{id}", "/api/orders/{order_id}"),
        ("/api/{a}/items/{b}/*", "/api/{x}/items/{y}/*"),
        ("/api/orders/{id}", "/api/orders/{id}"),
    ],
)
def test_the_service_refuses_a_pattern_that_matches_the_same_paths(first, second):
    existing = create_route(domain="api.example.com", pattern=first, actor=ACTOR)

    with pytest.raises(ValidationError) as caught:
        create_route(domain="API.example.com", pattern=second, actor=ACTOR)

    (message,) = caught.value.message_dict["pattern"]
    if first == second:
        assert (
            message == f"A route with this domain and pattern already exists: route {existing.pk}."
        )
    else:
        assert f"route {existing.pk} (api.example.com{first}) already matches the same paths" in (
            message
        )
    assert Route.objects.count() == 1


def test_other_domains_and_other_paths_are_different_routes():
    create_route(domain="api.example.com", pattern="/api/orders/{id}", actor=ACTOR)
    create_route(domain="*", pattern="/api/orders/{order_id}", actor=ACTOR)
    create_route(domain="api.example.com", pattern="/api/orders/{id}/*", actor=ACTOR)
    create_route(domain="api.example.com", pattern="/api/orders/me", actor=ACTOR)
    assert Route.objects.count() == 4


def test_renaming_a_placeholder_of_a_route_itself_is_allowed_but_not_onto_another():
    route = create_route(domain="*", pattern="/a/{id}", actor=ACTOR)
    other = create_route(domain="*", pattern="/b/{id}", actor=ACTOR)

    renamed = update_route(route, pattern="/a/{order_id}", actor=ACTOR)
    assert renamed.canonical_pattern == "/a/{}"
    with pytest.raises(ValidationError, match=f"route {route.pk} "):
        update_route(other, pattern="/a/{x}", actor=ACTOR)


def test_the_database_refuses_a_second_route_with_the_same_canonical_pattern():
    Route.objects.bulk_create([Route(domain="*", pattern="/a/{x}", canonical_pattern="/a/{}")])
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        Route.objects.bulk_create([Route(domain="*", pattern="/a/{y}", canonical_pattern="/a/{}")])
    message = str(caught.value)
    assert (
        "routes_route_domain_canonical_pattern_uniq" in message
        or "routes_route.canonical_pattern" in message
    )


def test_saving_a_route_fills_its_canonical_pattern():
    route = Route.objects.create(domain="*", pattern="/a/{id}/b")
    assert Route.objects.get(pk=route.pk).canonical_pattern == "/a/{}/b"


def test_the_command_says_which_route_already_matches_the_paths():
    existing = create_route(domain="*", pattern="/api/orders/{id}", actor=ACTOR)

    with pytest.raises(CommandError) as caught:
        call_command(
            "create_route", "--pattern", "/api/orders/{order_id}", "--method", "GET",
            stdout=StringIO(),
        )  # fmt: skip

    assert str(caught.value).startswith(f"pattern: route {existing.pk} (*/api/orders/{{id}})")
    assert Route.objects.count() == 1


def test_the_admin_form_shows_the_error_on_the_pattern(admin_client):
    existing = create_route(domain="*", pattern="/api/orders/{id}", actor=ACTOR)

    response = admin_client.post(
        reverse("admin:routes_route_add"),
        form_data(pattern="/api/orders/{order_id}", rules=[("GET", "api_key")]),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["pattern"]
    assert f"route {existing.pk} (*/api/orders/{{id}})" in errors["pattern"][0]
    assert Route.objects.count() == 1
