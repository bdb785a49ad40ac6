from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from core.actor import Actor
from routes.models import Route
from routes.patterns import METHODS
from routes.services import create_route

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:routes_route_changelist")
ADD = reverse("admin:routes_route_add")


def change_url(route: Route) -> str:
    return reverse("admin:routes_route_change", args=[route.pk])


def form_data(route: Route | None = None, rules=(), **fields) -> dict[str, str]:
    """What the add/change page posts: the route's fields and one select per method (the
    compact row of method rules); `rules` are (method, auth) pairs, other methods unset."""
    data = {
        "domain": "*",
        "pattern": "/api/data/*",
        "service_name": "data-api",
        "description": "",
        **fields,
    }
    chosen = dict(rules)
    data.update({f"rule_{method}": chosen.get(method, "") for method in METHODS})
    return data


def test_staff_add_a_route_with_its_methods(admin_client):
    page = admin_client.get(ADD).content.decode()
    # One compact row: a select per method, not an inline row per method.
    assert all(f'name="rule_{method}"' in page for method in METHODS)
    response = admin_client.post(
        ADD, form_data(domain="API.example.com", rules=[("GET", "api_key"), ("POST", "hmac")])
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    route = Route.objects.get()
    assert route.domain == "api.example.com"
    assert route.method_rules() == {"GET": "api_key", "POST": "hmac"}
    assert [e.action for e in AuditEvent.objects.order_by("id")] == [
        "route.created",
        "route.methods_set",
    ]
    assert AuditEvent.objects.first().actor == "user:admin"

    listed = admin_client.get(CHANGELIST)
    assert b"/api/data/*" in listed.content
    assert b"GET:api_key POST:hmac" in listed.content


def test_staff_edit_a_route_and_its_methods(admin_client):
    route = create_route(
        domain="*",
        pattern="/api/data/*",
        service_name="data-api",
        methods={"GET": "api_key", "POST": "hmac"},
        actor=Actor.system("test"),
    )
    page = admin_client.get(change_url(route))
    assert page.status_code == 200

    data = form_data(
        route,
        rules=[("GET", "public"), ("PUT", "any")],
        pattern="/api/v2/data/*",
    )
    response = admin_client.post(change_url(route), data)
    assert response.status_code == 302
    route.refresh_from_db()
    assert route.pattern == "/api/v2/data/*"
    assert route.method_rules() == {"GET": "public", "PUT": "any"}
    updated = AuditEvent.objects.get(action="route.updated")
    assert updated.detail["changed"] == {"pattern": ["/api/data/*", "/api/v2/data/*"]}
    methods_set = AuditEvent.objects.get(action="route.methods_set")
    assert methods_set.detail["changed"]["POST"] == ["hmac", None]


def test_saving_an_unchanged_route_writes_no_audit_rows(admin_client):
    route = create_route(
        domain="*", pattern="/api/data/*", methods={"GET": "api_key"}, actor=Actor.system("t")
    )
    data = form_data(route, rules=[("GET", "api_key")], service_name="")
    assert admin_client.post(change_url(route), data).status_code == 302
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["route.created"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"pattern": "/api/data/"}, "pattern", "Leave out the trailing '/'"),
        ({"pattern": "/api/{id"}, "pattern", "a placeholder is a whole segment"),
        ({"domain": "api..example.com"}, "domain", "empty label"),
    ],
)
def test_a_bad_route_is_shown_as_a_field_error(admin_client, fields, field, message):
    response = admin_client.post(ADD, form_data(rules=[("GET", "api_key")], **fields))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert any(message in error for error in errors[field]), errors
    assert not Route.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_unknown_auth_is_refused(admin_client):
    response = admin_client.post(ADD, form_data(rules=[("GET", "password")]))
    assert response.status_code == 200
    assert "rule_GET" in response.context["adminform"].form.errors
    assert not Route.objects.exists()


def test_a_duplicate_route_is_refused(admin_client):
    create_route(domain="api.example.com", pattern="/api/data/*", actor=Actor.system("t"))
    response = admin_client.post(ADD, form_data(domain="API.example.com"))
    assert response.status_code == 200
    assert b"already exists" in response.content
    assert Route.objects.count() == 1


def test_staff_delete_a_route(admin_client):
    route = create_route(
        domain="*", pattern="/api/data/*", methods={"GET": "hmac"}, actor=Actor.system("t")
    )
    url = reverse("admin:routes_route_delete", args=[route.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Route.objects.exists()
    deleted = AuditEvent.objects.get(action="route.deleted")
    assert deleted.actor == "user:admin"
    assert deleted.detail["methods"] == {"GET": "hmac"}


def test_bulk_delete_audits_each_route(admin_client):
    routes = [
        create_route(domain="*", pattern=f"/api/r{n}/*", actor=Actor.system("t")) for n in range(3)
    ]
    response = admin_client.post(
        CHANGELIST,
        {
            "action": "delete_selected",
            "_selected_action": [str(r.pk) for r in routes[:2]],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert list(Route.objects.values_list("pattern", flat=True)) == ["/api/r2/*"]
    assert AuditEvent.objects.filter(action="route.deleted").count() == 2


def test_the_route_list_searches_and_filters(admin_client):
    actor = Actor.system("t")
    create_route(domain="*", pattern="/api/users/*", service_name="users", actor=actor)
    create_route(domain="*", pattern="/api/orders/*", methods={"POST": "hmac"}, actor=actor)
    found = admin_client.get(CHANGELIST, {"q": "users"})
    assert b"/api/users/*" in found.content
    assert b"/api/orders/*" not in found.content
    filtered = admin_client.get(CHANGELIST, {"methods__auth__exact": "hmac"})
    assert b"/api/orders/*" in filtered.content
    assert b"/api/users/*" not in filtered.content


def test_the_route_list_costs_the_same_for_many_routes(admin_client, django_assert_max_num_queries):
    actor = Actor.system("t")
    for n in range(30):
        create_route(
            domain="*",
            pattern=f"/api/r{n}/*",
            methods={"GET": "api_key", "POST": "hmac", "DELETE": "any"},
            actor=actor,
        )
    with django_assert_max_num_queries(10):
        response = admin_client.get(CHANGELIST)
    assert response.content.count(b"GET:api_key POST:hmac DELETE:any") == 30
