"""postlet on the tap backend: lwIP's own stack on a TAP device inside a
network namespace that each test creates, reached from that namespace."""

import os
import subprocess

import pytest

from conftest import BINARY, PKI, USERS, Postlet
from netns import Netns, NetnsUnavailable

HERE = os.path.dirname(os.path.abspath(__file__))
ADDR4 = "192.0.2.2"
ADDR6 = "2001:db8::2"


def tap_config(address4, extra=()):
    return [
        "hostname mail.test",
        "backend tap",
        "tap_device tap0",
        "tap_address4 %s" % address4,
        "listen 0.0.0.0:587 starttls",
        "listen 0.0.0.0:465 tls",
        "listen [::]:587 starttls",
        "listen [::]:465 tls",
        "certificate %s/chain.pem" % PKI,
        "key %s/server.key" % PKI,
        "users %s" % USERS,
        "relay smtp+plain://127.0.0.1:9",
        "log_level debug",
    ] + list(extra)


def namespace(**kw):
    try:
        return Netns(**kw)
    except NetnsUnavailable as e:
        pytest.skip(str(e))


def scenario(ns, name, host, port):
    """Run one of scenarios.py's dialogues from inside the namespace."""
    r = subprocess.run(
        ["ip", "netns", "exec", ns.name, "/usr/bin/python3",
         os.path.join(HERE, "scenarios.py"), name, host, str(port),
         os.path.join(PKI, "ca.pem")],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, "%s against %s:%d\n%s%s" % (
        name, host, port, r.stdout, r.stderr)


@pytest.fixture(scope="module")
def static_tap(tmp_path_factory):
    ns = namespace()
    with ns:
        lines = tap_config(ADDR4 + "/24", extra=[
            "tap_gateway4 192.0.2.1", "tap_address6 %s/64" % ADDR6])
        p = Postlet(str(tmp_path_factory.mktemp("tap")), lines,
                    prefix=["ip", "netns", "exec", ns.name])
        p.start()
        try:
            # IPv6 addresses pass duplicate address detection first.
            ns.wait_connect(ADDR4, 587).close()
            ns.wait_connect(ADDR6, 587).close()
            yield ns, p
        finally:
            assert p.stop() == 0, p.text()


@pytest.mark.parametrize("name,port", [
    ("starttls_smtplib", 587),
    ("implicit_smtplib", 465),
    ("starttls_injection", 587),
    ("pipelined", 465),
    ("bad_commands", 465),
])
@pytest.mark.parametrize("host", [ADDR4, ADDR6])
def test_scenario(static_tap, name, port, host):
    ns, _ = static_tap
    scenario(ns, name, host, port)


def test_openssl_s_client(static_tap):
    ns, _ = static_tap
    for args in (["-starttls", "smtp", "-connect", ADDR4 + ":587"],
                 ["-connect", ADDR4 + ":465"]):
        r = subprocess.run(
            ["ip", "netns", "exec", ns.name, "openssl", "s_client",
             "-CAfile", os.path.join(PKI, "ca.pem"), "-verify_return_error",
             "-verify_hostname", "localhost", "-ign_eof"] + args,
            input="EHLO s.test\r\nQUIT\r\n", capture_output=True, text=True,
            timeout=30)
        assert "Verify return code: 0 (ok)" in r.stdout, r.stdout + r.stderr
        assert "221 2.0.0" in r.stdout, r.stdout


def test_sessions_logged(static_tap):
    ns, p = static_tap
    scenario(ns, "implicit_smtplib", ADDR4, 465)
    p.wait_log("connect client=192.0.2.1")
    p.wait_log("tls version=TLSv1.2")


def test_dhcp(tmp_path):
    ns = namespace(dhcp=True)
    with ns:
        p = Postlet(str(tmp_path), tap_config("dhcp"),
                    prefix=["ip", "netns", "exec", ns.name])
        p.start()
        try:
            line = p.wait_log("tap device=tap0 address=192.0.2.", timeout=30)
            addr = line.split("address=")[1].split()[0]
            assert any(lease[1] == addr for lease in ns.leases()), \
                (addr, ns.leases(), ns.log())
            scenario(ns, "starttls_smtplib", addr, 587)
            scenario(ns, "implicit_smtplib", addr, 465)
        finally:
            assert p.stop() == 0, p.text()


def test_submission_over_tap(tmp_path):
    """The main path on lwIP's stack: AUTH, then relay over TLS to an
    upstream on the namespace's side of the tap."""
    import json
    import time

    from test_relay import credentials, pin_of

    ns = namespace()
    out = str(tmp_path / "upstream.jsonl")
    with ns:
        up = ns.run(["/usr/bin/python3", os.path.join(HERE, "upstream.py"),
                     "192.0.2.1", "4650", "smtps", PKI, out],
                    stdout=subprocess.PIPE, text=True)
        assert up.stdout.readline().strip() == "listening"
        lines = [l for l in tap_config(ADDR4 + "/24")
                 if not l.startswith("relay ")]
        lines += ["relay smtps://192.0.2.1:4650",
                  "relay_credentials %s" % credentials(str(tmp_path)),
                  "relay_pin %s" % pin_of(PKI + "/server.pem")]
        p = Postlet(str(tmp_path), lines,
                    prefix=["ip", "netns", "exec", ns.name])
        # postlet test reaches the upstream over lwIP on the tap too (the
        # device takes one user at a time: before the daemon starts).
        r = subprocess.run(["ip", "netns", "exec", ns.name, BINARY, "test",
                            "-c", p.conf], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "ok: upstream accepts mail" in r.stdout, r.stdout
        p.start()
        try:
            ns.wait_connect(ADDR4, 465).close()
            scenario(ns, "submit", ADDR4, 465)
            deadline = time.monotonic() + 10
            while not os.path.exists(out) and time.monotonic() < deadline:
                time.sleep(0.1)
            with open(out) as f:
                got = json.loads(f.readline())
            assert got["from"] == "alice@example.test"
            assert got["rcpts"] == ["bob@example.test"]
            assert got["tls"] and got["auth"]
            assert got["data"].startswith("Received: from client.test")
            assert got["data"].endswith("\r\n\r\nhello\r\n")
            p.wait_log("result=accepted")
        finally:
            assert p.stop() == 0, p.text()
