"""Where webhooks may not go: private, loopback, link-local and metadata addresses, however
they are spelled and whatever a name resolves to when the webhook is sent; and a redirect to
one is not followed. Nothing here connects anywhere but 127.0.0.1 (the guard fixture would
fail the test first)."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from clients import services as clients
from webhooks import destinations, transport
from webhooks.models import Delivery
from webhooks.tests.conftest import ACTOR, deliver_due, make_endpoint
from webhooks.tests.receiver import Reply, receiving

pytestmark = pytest.mark.django_db

REFUSED = [
    ("127.0.0.1", "a loopback address"),
    ("127.255.0.9", "a loopback address"),
    ("10.1.2.3", "a private address"),
    ("172.16.0.1", "a private address"),
    ("172.31.255.254", "a private address"),
    ("192.168.1.1", "a private address"),
    ("169.254.169.254", "a cloud metadata address"),
    ("169.254.170.2", "a cloud metadata address"),
    ("169.254.1.1", "a link-local address"),
    ("100.64.0.1", "not a public address"),  # carrier-grade NAT
    ("100.100.100.200", "a cloud metadata address"),
    ("192.0.0.192", "a cloud metadata address"),
    ("0.0.0.0", "an unspecified address"),  # noqa: S104 - an address refused, not bound
    ("224.0.0.1", "a multicast address"),
    ("198.18.0.1", "a private address"),  # benchmarking
    ("192.0.2.10", "a private address"),  # documentation
    ("240.0.0.1", "a private address"),  # reserved
    ("255.255.255.255", "a private address"),
    ("::1", "a loopback address"),
    ("::", "an unspecified address"),
    ("fe80::1", "a link-local address"),
    ("fc00::1", "a private address"),
    ("fd00:ec2::254", "a cloud metadata address"),
    ("::ffff:10.0.0.1", "a private address"),  # IPv4-mapped
    ("::ffff:127.0.0.1", "a loopback address"),
    ("64:ff9b::a00:1", "a private address"),  # NAT64 of 10.0.0.1
    ("2002:a00:1::", "a private address"),  # 6to4 of 10.0.0.1
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "a private address"),  # Teredo of 10.0.0.1
]


def bracketed(address: str) -> str:
    return f"[{address}]" if ":" in address else address


@pytest.fixture(autouse=True)
def _only_loopback_connections(monkeypatch):
    """Whatever the code under test decides, no test here opens a connection to anything but
    127.0.0.1: a bug fails the test instead of sending a packet."""
    connect = socket.create_connection

    def guarded(address, *args, **kwargs):
        assert ipaddress.ip_address(address[0]) in ipaddress.ip_network("127.0.0.0/8"), address
        return connect(address, *args, **kwargs)

    monkeypatch.setattr(transport.socket, "create_connection", guarded)


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_private_and_special_addresses_are_refused_when_saved(address, reason, settings):
    settings.GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(ValidationError) as refused:
        destinations.validate_url(f"https://{bracketed(address)}/hook")
    assert reason in refused.value.message_dict["url"][0]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_private_and_special_addresses_are_refused_at_send_time(address, reason, settings):
    settings.GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(destinations.RefusedDestination, match=reason):
        transport.post(f"http://{bracketed(address)}:9/hook", b"{}", {}, timeout=2)


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "localhost.", "api.localhost"])
def test_localhost_by_name_is_refused_when_saved(host, settings):
    settings.GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(ValidationError, match="loopback"):
        destinations.validate_url(f"http://{host}:8080/hook")


def hosts_file_names() -> list[str]:
    """Names /etc/hosts gives a 127.x address, besides localhost (the machine's own name)."""
    names = []
    for line in Path("/etc/hosts").read_text().splitlines():
        fields = line.split("#")[0].split()
        if fields and fields[0].startswith("127."):
            names += [name for name in fields[1:] if name != "localhost"]
    return names or ["localhost"]


# Spellings of 127.0.0.1 that the resolver understands and a literal check would miss.
LOOPBACK_NAMES = ["localhost", "0x7f000001", "2130706433", "017700000001", "127.1"]


@pytest.mark.parametrize("host", [*LOOPBACK_NAMES, hosts_file_names()[0]])
def test_a_name_that_resolves_to_loopback_is_refused_when_sent(host, loopback):
    """Saved while loopback was allowed (a test's receiver); the check at send time is on
    the resolved address, whatever the name looked like."""
    with receiving() as receiver:
        endpoint, _ = make_endpoint(receiver, events=["client.created"])
        endpoint.url = f"http://{host}:{receiver.port}/hook"
        endpoint.save()
        loopback.GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS = []
        clients.create_client(name="acme", actor=ACTOR)
        deliver_due()
        assert receiver.requests == []
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.PENDING, 1), "retried later"
    assert "127.0.0.1" in delivery.error
    assert "loopback" in delivery.error


def answer(address: str) -> tuple:
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 0))


def resolver(monkeypatch, name: str, answers) -> None:
    """DNS for `name` answered by `answers()`; every other lookup as usual."""
    real = socket.getaddrinfo

    def lookup(host, *args, **kwargs):
        return answers() if host == name else real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)


def test_the_connection_goes_to_the_address_that_was_checked(loopback, monkeypatch):
    """DNS rebinding: the name is resolved once, checked, and that address is connected to;
    a second answer (a private address) is never asked for or used."""
    answers = iter([[answer("127.0.0.1")]])
    resolver(monkeypatch, "rebind.example", lambda: next(answers, [answer("10.0.0.1")]))
    with receiving() as receiver:
        response = transport.post(
            f"http://rebind.example:{receiver.port}/hook", b"{}", {}, timeout=2
        )
        (request,) = receiver.requests
    assert response.status == 200
    assert request.headers["host"] == f"rebind.example:{receiver.port}"


def test_a_name_with_any_refused_address_is_refused(loopback, monkeypatch):
    """A resolver that answers a mix could hand out the private one next time."""
    loopback.GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS = []
    resolver(monkeypatch, "mixed.example", lambda: [answer("93.184.216.34"), answer("10.0.0.7")])
    with pytest.raises(destinations.RefusedDestination, match=r"10\.0\.0\.7.*private"):
        transport.post("https://mixed.example/hook", b"{}", {}, timeout=2)


@pytest.mark.parametrize(
    "location", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "SAME"]
)
def test_a_redirect_is_not_followed(loopback, location):
    """A receiver that redirects (to a private address, or anywhere) fails the attempt; the
    redirect's target gets nothing."""
    with receiving() as target:
        where = target.url("/elsewhere") if location == "SAME" else location
        with receiving(lambda request, n: Reply(302, b"", (("Location", where),))) as receiver:
            make_endpoint(receiver, events=["client.created"])
            clients.create_client(name="acme", actor=ACTOR)
            deliver_due()
            assert len(receiver.requests) == 1
        assert target.requests == []
    delivery = Delivery.objects.get()
    assert delivery.response_status == 302
    assert "not followed" in delivery.error
    assert delivery.status == Delivery.Status.PENDING, "a redirect is a failure to retry"


def test_an_allowed_network_opens_only_that_network(settings):
    settings.GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    destinations.validate_url("http://10.20.3.4/hook")
    with pytest.raises(ValidationError, match="private"):
        destinations.validate_url("http://10.21.3.4/hook")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://user:pass@example.com/hook", "user name or password"),
        ("http://token@example.com/hook", "user name or password"),
        ("file:///etc/passwd", "http:// or https://"),
        ("gopher://example.com/", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("ftp://example.com/", "http:// or https://"),
        ("http:///hook", "no host"),
        ("https://example.com/hook#top", "fragment"),
        ("https://exa mple.com/hook", "printable ASCII"),
        ("https://example.com/h\u00e9", "printable ASCII"),
        ("https://example.com:99999/", "Not a valid URL"),
        ("http://[fe80::1%25eth0]/", "link-local"),
        ("http://[::ffff:169.254.169.254]/", "metadata"),
    ],
)
def test_urls_that_are_refused_when_saved(url, problem, settings):
    settings.GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(ValidationError, match=problem):
        destinations.validate_url(url)


def test_a_public_url_is_accepted(settings):
    settings.GATEKEEPER_WEBHOOK_ALLOWED_NETWORKS = []
    destinations.validate_url("https://hooks.example.com:8443/gatekeeper?team=ops")


@given(st.ip_addresses())
def test_every_address_allowed_without_an_allow_list_is_public(address):
    if destinations.why_refused(address, ()) is None:
        assert address.is_global
        assert not address.is_multicast
        inner = destinations._embedded_ipv4(address)
        assert inner is None or inner.is_global


@given(st.text(max_size=200))
def test_any_text_as_a_url_is_accepted_or_refused_with_a_field_error(text):
    try:
        destinations.validate_url(text)
    except ValidationError as exc:
        refused = exc
    else:
        return
    assert "url" in refused.message_dict
