"""The dashboard in a real browser: Debian's headless Chromium, driven by Playwright, against
a live server on loopback with the real database (issue 13).

Each test saves a screenshot under `test-artifacts/browser/` (git-ignored) to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from audit.services import add_decision_counts
from audit.tests.factories import DecisionRecordFactory
from authz.tests.conftest import ACTOR
from clients.models import Client, Credential
from conftest import CHROMIUM
from permissions.models import Permission
from routes import services as routes

pytestmark = [pytest.mark.needs("chromium"), pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a-long-browser-test-password"
NEW_KEY = re.compile(r"gk_[a-z0-9]{8}_[A-Za-z0-9]{32}")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread, and Django refuses ORM calls
    # from a thread with a running loop; this test's own setup and checks are synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server, world) -> Iterator[object]:
    User.objects.create_superuser("staff", "staff@example.com", PASSWORD)
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page) -> None:
    page.goto("/admin/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#overview")


def test_log_in_and_see_the_overview_with_data(page, world):
    now = timezone.now()
    for minutes, allowed, denied in [(1, 30, 4), (2, 45, 12), (5, 20, 30), (20, 60, 2)]:
        add_decision_counts(
            {
                (now - timedelta(minutes=minutes), "authenticated"): allowed,
                (now - timedelta(minutes=minutes), "no_permission"): denied,
                (now - timedelta(minutes=minutes), "invalid_credentials"): denied // 2,
            }
        )
    DecisionRecordFactory(
        reason="no_permission",
        client=world.acme,
        route=world.admin,
        path="/api/admin/x",
    )
    log_in(page)
    assert page.locator("#traffic svg rect").count() >= 8
    assert "allowed 155" in page.inner_text("#traffic")
    assert "acme" in page.inner_text("#top-denied")
    assert page.inner_text("#health").count("ok") >= 2
    shot(page, "overview")


def test_the_access_tester_allowed_denied_and_shadowed(page, world):
    routes.create_route(
        domain="api.example.com", pattern="/api/public/*", methods={"GET": "api_key"}, actor=ACTOR
    )
    log_in(page)
    page.goto("/admin/dashboard/tester/")
    page.fill("#id_host", "api.example.com")
    page.fill("#id_uri", "/api/data/x")
    page.fill("#id_headers", f"X-API-Key: {world.acme_key}")
    page.click("input[value=Explain]")
    verdict = page.inner_text(".gk-verdict")
    assert "200 authenticated" in verdict
    assert world.acme_key not in page.content()
    assert page.input_value("#id_headers") == ""
    shot(page, "tester-allowed")

    page.fill("#id_uri", "/api/admin/x")
    page.fill("#id_client", "stranger")
    page.click("input[value=Explain]")
    assert "403 no_permission" in page.inner_text(".gk-verdict")
    shot(page, "tester-denied")

    page.fill("#id_uri", "/api/public/x")
    page.fill("#id_client", "")
    page.click("input[value=Explain]")
    assert "401 invalid_credentials" in page.inner_text(".gk-verdict")
    assert "shadowed by a more specific domain" in page.inner_text("#explanation")
    shot(page, "tester-shadowed")

    page.goto(f"/admin/routes/route/{world.public.pk}/change/")
    assert "shadowed by a more specific domain" in page.inner_text("#shadowing")
    assert page.locator("select[name^=rule_]").count() == 7
    shot(page, "route-page")


def test_issue_and_rotate_from_the_client_page_shows_each_secret_once(page, world):
    log_in(page)
    page.goto(f"/admin/clients/client/{world.acme.pk}/change/")
    page.select_option("#issue-form select[name=kind]", "api_key")
    page.fill("#issue-form input[name=label]", "from-the-browser")
    page.click("#issue-form button[type=submit]")
    page.wait_for_selector(".secret-card")
    key = page.inner_text("code.secret")
    assert NEW_KEY.fullmatch(key)
    page.click("button.copy-button[data-copy=secret-1]")
    page.wait_for_selector("button.copy-button[data-copy=secret-1]:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == key
    shot(page, "secret-api-key")
    page.reload()
    assert "already shown" in page.inner_text("#already-shown")
    assert key not in page.content()
    assert Credential.objects.filter(label="from-the-browser").count() == 1
    shot(page, "secret-reloaded")

    page.goto(f"/admin/clients/client/{world.acme.pk}/change/")
    page.click("text=Rotate HMAC secrets")
    page.wait_for_selector(".secret-card[data-kind=hmac]")
    card = page.inner_text(".secret-card")
    assert str(world.acme.pk) in card
    assert "HMACClient(" in card
    assert "still works until" in card
    shot(page, "secret-hmac-rotated")
    page.reload()
    assert "already shown" in page.inner_text("#already-shown")
    assert Credential.objects.filter(client=world.acme, kind="hmac").count() == 2


def test_grant_several_routes_at_once_and_revoke_a_credential(page, world):
    stranger = Client.objects.get(name="stranger")
    log_in(page)
    page.goto(f"/admin/clients/client/{stranger.pk}/change/")
    for route in (world.data, world.admin):
        page.check(f"#grant-form input[name=routes][value='{route.pk}']")
    page.check("#grant-form input[name=methods][value=GET]")
    page.click("#grant-form button[type=submit]")
    page.wait_for_selector(".messagelist")
    assert "Granted stranger" in page.inner_text(".messagelist")
    held = set(Permission.objects.filter(client=stranger).values_list("route_id", flat=True))
    assert held == {world.data.pk, world.admin.pk}
    shot(page, "client-granted")

    (key,) = Credential.objects.filter(client=stranger)
    page.click(f"button.revoke[data-prefix='{key.prefix}']")
    page.wait_for_selector(".messagelist")
    assert "stopped working now" in page.inner_text(".messagelist")
    key.refresh_from_db()
    assert key.revoked_at is not None
    shot(page, "client-revoked")


def test_a_decision_records_test_this_link(page, world):
    record = DecisionRecordFactory(
        reason="method_not_allowed",
        client=world.acme,
        route=world.data,
        method="DELETE",
        path="/api/data/7",
    )
    log_in(page)
    page.goto("/admin/audit/decisionrecord/")
    shot(page, "decision-list")
    page.goto(f"/admin/audit/decisionrecord/{record.pk}/change/")
    page.click("text=Test this request")
    assert page.input_value("#id_uri") == "/api/data/7"
    assert page.input_value("#id_method") == "DELETE"
    page.click("input[value=Explain]")
    assert "403 method_not_allowed" in page.inner_text(".gk-verdict")
    shot(page, "decision-test-this")
