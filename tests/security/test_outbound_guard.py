"""The outbound-URL guard (chalicelib/outbound.py) on its own: every spelling of a non-public
address refused, public names that resolve inward refused, the local allow-list, the connection
made to the checked address, redirects checked hop by hop. No network: IP literals, a loopback
server and a patched resolver."""
import ipaddress
import os
import socket

import pytest

from chalicelib import outbound, settings
from tests.security.servers import SECRET, Server, fake_dns

REFUSED_SPELLINGS = [
    "http://[fec0::1]/",   # deprecated site-local IPv6, which Python's is_global counts as global
    # loopback in every spelling
    "http://127.0.0.1/", "http://127.0.0.1:8000/local/token", "http://2130706433/", "http://0x7f000001/",
    "http://0x7F.0x0.0x0.0x1/", "http://0177.0.0.1/", "http://017700000001/", "http://127.1/", "http://127.0.1/",
    "http://127.000.000.001/", "http://0/", "http://[::1]/", "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[64:ff9b::127.0.0.1]/",
    "http://[2002:7f00:1::]/", "http://localhost/", "http://localhost./", "http://LOCALHOST/",
    "HTTP://127.0.0.1/", "hTTp://127.0.0.1/", "http://127.0.0.1./",
    # link-local, cloud metadata
    "http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/", "http://0xa9fea9fe/",
    "http://2852039166/", "http://[fe80::1]/", "http://[fe80::1%25eth0]/", "http://[fd00:ec2::254]/",
    # private, CGNAT, unique-local
    "http://10.0.0.1/", "http://10.1/", "http://172.16.0.1/", "http://172.31.255.255/", "http://192.168.0.1/",
    "http://100.64.0.1/", "http://100.127.255.254/", "http://[fc00::1]/", "http://[fd12:3456::1]/",
    # multicast, unspecified, reserved, broadcast
    "http://224.0.0.1/", "http://239.255.255.250/", "http://[ff02::1]/", "http://0.0.0.0/", "http://[::]/",
    "http://240.0.0.1/", "http://255.255.255.255/",
    # userinfo tricks and credentials
    "http://good.example@127.0.0.1/", "http://good.example:pw@127.0.0.1/", "http://user:pw@good.example/",
    "http://127.0.0.1#@good.example/", "http://127.0.0.1\\@good.example/", "http://good.example%40127.0.0.1/",
    # other schemes and malformed
    "file:///etc/passwd", "ftp://good.example/x", "gopher://127.0.0.1:6379/_x", "dict://127.0.0.1:11211/",
    "javascript:alert(1)", "//good.example/x", "http:///x", "http://good.example:99999/", "http://good .example/",
    "http://good.example/\n", "", "x" * 3000,
]


@pytest.fixture
def local(monkeypatch):
    monkeypatch.setenv("OMNISHOP_LOCAL", "1")
    monkeypatch.delenv("OMNISHOP_OUTBOUND_ALLOW", raising=False)
    monkeypatch.setattr(outbound, "_OPENED", set())   # what this test opens stays in this test
    return monkeypatch


@pytest.mark.parametrize("url", REFUSED_SPELLINGS)
def test_every_spelling_of_a_non_public_address_is_refused(local, url):
    fake_dns(local, {"good.example": ["93.184.216.34"], "localhost": ["127.0.0.1", "::1"]})
    with pytest.raises(outbound.Refused):
        outbound.check(url)


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("10.2.3.4", "private"), ("169.254.169.254", "link-local"),
    ("100.64.1.1", "CGNAT"), ("fd00::5", "unique-local"), ("::ffff:10.0.0.1", "private"), ("224.1.1.1", "multicast")])
def test_a_public_name_resolving_inward_is_refused_naming_why(local, address, kind):
    fake_dns(local, {"partner.example": [address]})
    with pytest.raises(outbound.Refused) as caught:
        outbound.check("https://partner.example/export.json")
    assert kind in caught.value.reason and "partner.example" not in caught.value.reason


def test_one_inward_address_among_public_ones_is_enough_to_refuse(local):
    fake_dns(local, {"partner.example": ["93.184.216.34", "127.0.0.1"]})
    with pytest.raises(outbound.Refused):
        outbound.check("https://partner.example/")


def test_public_addresses_pass(local):
    fake_dns(local, {"partner.example": ["93.184.216.34", "2606:2800:220:1::1"]})
    target = outbound.check("HTTPS://Partner.Example./export.json?x=1")
    assert (target.scheme, target.host, target.port, target.path) == ("https", "partner.example", 443, "/export.json?x=1")
    assert target.addresses == ("93.184.216.34", "2606:2800:220:1::1")
    assert outbound.check("http://8.8.8.8:8080/").port == 8080


def test_a_name_that_does_not_resolve_is_unreachable_not_refused(local):
    fake_dns(local, {})
    with pytest.raises(outbound.Unreachable):
        outbound.check("https://nowhere.example/")


def test_https_only_outside_the_local_runtime(monkeypatch):
    monkeypatch.delenv("OMNISHOP_LOCAL", raising=False)
    monkeypatch.setenv("OMNISHOP_OUTBOUND_ALLOW", "127.0.0.1:9999")
    fake_dns(monkeypatch, {"partner.example": ["93.184.216.34"]})
    with pytest.raises(outbound.Refused, match="https"):
        outbound.check("http://partner.example/")
    assert outbound.check("https://partner.example/").scheme == "https"
    with pytest.raises(outbound.Refused, match="loopback"):  # the allow-list means nothing in AWS
        outbound.check("https://127.0.0.1:9999/")


def test_the_allow_list_opens_exactly_its_loopback_ports_and_never_the_api_or_moto(local):
    local.setenv("OMNISHOP_PORT", "8122")
    local.setenv("MOTO_PORT", "5122")
    local.setenv("OMNISHOP_OUTBOUND_ALLOW", "127.0.0.1:9999, [::1]:9998,127.0.0.1:8122,127.0.0.1:5122,10.0.0.1:80,junk")
    assert settings.outbound_allow() == {(ipaddress.ip_address("127.0.0.1"), 9999),
                                         (ipaddress.ip_address("::1"), 9998)}
    assert outbound.check("http://127.0.0.1:9999/listener").addresses == ("127.0.0.1",)
    assert outbound.check("http://[::1]:9998/listener").port == 9998
    for url in ("http://127.0.0.1:9998/", "http://127.0.0.1:8122/local/token", "http://127.0.0.1:5122/moto-api/",
                "http://10.0.0.1/", "http://127.0.0.2:9999/", "http://2130706433:9999/"):
        with pytest.raises(outbound.Refused):
            outbound.check(url)


def test_allow_local_and_disallow_local_edit_this_process_list(local):
    outbound.allow_local("127.0.0.1", 4242)
    outbound.allow_local("127.0.0.1", 4242)
    outbound.allow_local("127.0.0.1", 4343)
    assert outbound.check("http://127.0.0.1:4242/").port == 4242
    outbound.disallow_local("127.0.0.1", 4242)
    with pytest.raises(outbound.Refused):
        outbound.check("http://127.0.0.1:4242/")
    assert outbound.check("http://127.0.0.1:4343/").port == 4343
    assert "OMNISHOP_OUTBOUND_ALLOW" not in os.environ   # child processes inherit nothing


def test_allow_local_from_many_threads_loses_no_port(local):
    """Listeners start on several threads at once: every port each opened is open (the list used
    to be rewritten in os.environ, read-modify-write, and lost entries), and the API's and
    moto's own ports stay closed whoever asks."""
    import threading

    ports = list(range(20000, 20200))
    barrier = threading.Barrier(8)

    def open_some(mine: list[int]) -> None:
        barrier.wait(10)
        for port in mine:
            outbound.allow_local("127.0.0.1", port)

    threads = [threading.Thread(target=open_some, args=(ports[n::8],)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert {port for _, port in settings.outbound_allow(outbound._OPENED)} == set(ports)
    local.setenv("OMNISHOP_PORT", "20007")
    local.setenv("MOTO_PORT", "20008")
    outbound.allow_local("127.0.0.1", 20007)
    for port in (20007, 20008):
        with pytest.raises(outbound.Refused):
            outbound.check(f"http://127.0.0.1:{port}/")


# --- the call -----------------------------------------------------------------------------------
def test_the_call_goes_to_the_checked_address_with_the_name_as_host(local):
    """DNS rebinding: the name is resolved once; a second, different answer is never used."""
    with Server() as server:
        outbound.allow_local("127.0.0.1", server.port)
        answers = {"partner.example": ["127.0.0.1"]}
        looked_up = fake_dns(local, answers)
        real_check = outbound.check

        def check_then_rebind(url):
            target = real_check(url)
            answers["partner.example"] = ["169.254.169.254"]  # what a rebinding resolver answers next
            return target

        local.setattr(outbound, "check", check_then_rebind)
        answer = outbound.request("GET", f"http://partner.example:{server.port}/export.json")
    assert answer.status == 200 and answer.body == SECRET.encode()
    assert looked_up == ["partner.example"]
    assert server.seen == [("GET", "/export.json", f"partner.example:{server.port}")]


def test_the_body_read_is_bounded(local):
    with Server({"/big": (200, {}, b"x" * 5000)}) as server:
        outbound.allow_local("127.0.0.1", server.port)
        assert len(outbound.request("GET", f"{server.url}/big", max_bytes=100).body) == 101


def test_redirects_are_checked_hop_by_hop(local):
    with Server() as inner, Server() as outer:
        outbound.allow_local("127.0.0.1", outer.port)  # `inner` stays closed, like moto's port
        outer.routes.update({
            "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/iam/"}, b""),
            "/to-inner": (301, {"Location": f"{inner.url}/moto-api/data.json"}, b""),
            "/to-decimal": (307, {"Location": f"http://2130706433:{inner.port}/"}, b""),
            "/to-file": (302, {"Location": "file:///etc/passwd"}, b""),
            "/relative": (302, {"Location": "/final"}, b""),
            "/loop": (302, {"Location": "/loop"}, b""),
            "/final": (200, {}, b"fine"),
        })
        for path, why in (("/to-metadata", "link-local"), ("/to-inner", "loopback"),
                          ("/to-decimal", "dotted quad"), ("/to-file", "http and https")):
            with pytest.raises(outbound.Refused, match=why) as caught:
                outbound.request("GET", f"{outer.url}{path}", redirects=3)
            assert SECRET not in caught.value.reason
        assert inner.seen == []
        assert outbound.request("GET", f"{outer.url}/relative", redirects=3).body == b"fine"
        with pytest.raises(outbound.Refused, match="more than 3 redirects"):
            outbound.request("GET", f"{outer.url}/loop", redirects=3)
        for method, limit in (("GET", 0), ("POST", 3)):  # a POST never follows; no limit, none followed
            with pytest.raises(outbound.Refused, match="not followed"):
                outbound.request(method, f"{outer.url}/relative", b"{}", redirects=limit)


def test_a_closed_port_is_unreachable(local):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outbound.allow_local("127.0.0.1", port)
    with pytest.raises(outbound.Unreachable, match="could not be reached"):
        outbound.request("POST", f"http://127.0.0.1:{port}/listener", b"{}", timeout=2)


@pytest.mark.parametrize("address, kind", [("::ffff:7f00:1", "loopback"), ("64:ff9b::a9fe:a9fe", "link-local"),
                                           ("2002:a00:1::", "private"), ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo")])
def test_ipv4_inside_ipv6_is_judged_as_the_ipv4_address(address, kind):
    assert kind in outbound.refused_kind(ipaddress.ip_address(address))
