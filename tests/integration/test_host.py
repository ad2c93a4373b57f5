"""postlet on the host backend (kernel sockets) on loopback."""

import os
import signal
import socket
import ssl
import subprocess
import time

import pytest

import scenarios
from conftest import PKI, base_config, free_port
from scenarios import Lines, connect, tls_context


@pytest.mark.parametrize("name,port", [
    ("starttls_smtplib", "submission"),
    ("implicit_smtplib", "implicit"),
    ("starttls_injection", "submission"),
    ("pipelined", "implicit"),
    ("bad_commands", "implicit"),
])
def test_scenario(host_postlet, ca, name, port):
    p = host_postlet
    scenarios.SCENARIOS[name](p.host, getattr(p, port), ca)


def test_injection_is_logged(host_postlet, ca):
    p = host_postlet
    scenarios.starttls_injection(p.host, p.submission, ca)
    p.wait_log("reason=pipelined-after-starttls")


def test_ipv6_loopback(run_postlet, ca):
    try:
        sub = free_port(socket.AF_INET6, "::1")
        imp = free_port(socket.AF_INET6, "::1")
    except OSError as e:
        pytest.skip("no IPv6 loopback here: %s" % e)
    run_postlet(base_config(sub, imp, host="::1"))
    scenarios.starttls_smtplib("::1", sub, ca)
    scenarios.implicit_smtplib("::1", imp, ca)


def test_rsa_certificate(run_postlet, ca):
    sub, imp = free_port(), free_port()
    lines = base_config(sub, imp)
    lines = [l for l in lines if not l.startswith(("certificate", "key"))]
    lines += ["certificate %s/rsa-chain.pem" % PKI, "key %s/rsa.key" % PKI]
    run_postlet(lines)
    scenarios.implicit_smtplib("127.0.0.1", imp, ca)
    scenarios.starttls_smtplib("127.0.0.1", sub, ca)


def s_client(args, stdin):
    return subprocess.run(
        ["openssl", "s_client", "-CAfile", os.path.join(PKI, "ca.pem"),
         "-verify_return_error", "-verify_hostname", "localhost",
         "-ign_eof"] + args,
        input=stdin, capture_output=True, text=True, timeout=20)


def test_openssl_s_client_starttls(host_postlet):
    p = host_postlet
    r = s_client(["-starttls", "smtp", "-connect",
                  "127.0.0.1:%d" % p.submission], "EHLO s.test\r\nQUIT\r\n")
    assert "Verify return code: 0 (ok)" in r.stdout, r.stdout + r.stderr
    assert "221 2.0.0" in r.stdout, r.stdout
    assert r.returncode == 0


def test_openssl_s_client_implicit(host_postlet):
    p = host_postlet
    r = s_client(["-connect", "127.0.0.1:%d" % p.implicit],
                 "EHLO s.test\r\nQUIT\r\n")
    assert "Verify return code: 0 (ok)" in r.stdout, r.stdout + r.stderr
    assert "220 mail.test ESMTP" in r.stdout, r.stdout
    assert "221 2.0.0" in r.stdout


def test_swaks_starttls(host_postlet):
    p = host_postlet
    r = subprocess.run(
        ["swaks", "--server", "127.0.0.1", "--port", str(p.submission),
         "--tls", "--tls-verify", "--tls-ca-path",
         os.path.join(PKI, "ca.pem"), "--ehlo", "swaks.test",
         "--quit-after", "HELO", "--to", "x@example.test"],
        capture_output=True, text=True, timeout=30)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "TLS started" in out, out
    assert "221 2.0.0" in out, out


def test_session_cap(run_postlet, ca):
    sub, imp = free_port(), free_port()
    p = run_postlet(base_config(sub, imp, extra=["max_sessions 2"]))
    held = []
    for _ in range(2):
        s = connect("127.0.0.1", sub)
        Lines(s).expect("220 ")
        held.append(s)
    s = connect("127.0.0.1", sub)
    r = Lines(s)
    r.expect("421 4.3.2")
    p.wait_log("reason=max-sessions")
    # A freed slot is usable again at once.
    held.pop().sendall(b"QUIT\r\n")
    p.wait_log("reason=quit")
    s = connect("127.0.0.1", sub)
    Lines(s).expect("220 ")
    for s in held:
        s.close()


def test_idle_timeout(run_postlet):
    sub, imp = free_port(), free_port()
    p = run_postlet(base_config(sub, imp, extra=["timeout_idle 10"]))
    s = connect("127.0.0.1", sub)
    s.settimeout(25)
    r = Lines(s)
    r.expect("220 ")
    r.expect("421 4.4.2")
    assert s.recv(10) == b""
    p.wait_log("reason=timeout")


def test_tls_client_on_starttls_port(host_postlet, ca):
    p = host_postlet
    s = connect("127.0.0.1", p.submission)
    Lines(s).expect("220 ")
    # Send a real ClientHello made by the ssl module.
    inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = tls_context(ca).wrap_bio(inb, outb, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    s.sendall(outb.read())
    s.settimeout(10)
    assert s.recv(100) == b""
    p.wait_log("error=tls-on-starttls-port")


def test_plaintext_on_implicit_port(host_postlet):
    """A plaintext client on 465 is told, in plaintext, to use STARTTLS."""
    p = host_postlet
    s = connect("127.0.0.1", p.implicit)
    s.sendall(b"EHLO plain.test\r\n")
    r = Lines(s)
    line = r.expect("554 5.7.0")[-1]
    assert "STARTTLS on port %d" % p.submission in line, line
    assert s.recv(10) == b""
    p.wait_log("error=plaintext-on-implicit-tls-port")


def test_silent_plaintext_client_on_implicit_port(host_postlet):
    """One that waits for a greeting hears the same after a few seconds
    of silence (a TLS client always speaks first)."""
    p = host_postlet
    s = connect("127.0.0.1", p.implicit)
    s.settimeout(20)
    Lines(s).expect("554 5.7.0")
    p.wait_log("reason=plaintext-on-tls-port")


def test_sigterm_drains(host_postlet):
    p = host_postlet
    s = connect("127.0.0.1", p.submission)
    r = Lines(s)
    r.expect("220 ")
    p.signal(signal.SIGTERM)
    r.expect("421 4.3.2")
    assert p.proc.wait(15) == 0
    # The listeners are gone.
    with pytest.raises(OSError):
        connect("127.0.0.1", p.submission)


def test_sighup_reload(run_postlet, workdir, ca):
    sub, imp = free_port(), free_port()
    p = run_postlet(base_config(sub, imp))
    s = connect("127.0.0.1", sub)
    r = Lines(s)
    r.expect("220 ")
    # New certificate: sessions started after the reload present it.
    with open(p.conf) as f:
        lines = f.read().splitlines()
    lines = [l for l in lines if not l.startswith(("certificate", "key"))]
    lines += ["certificate %s/rsa-chain.pem" % PKI, "key %s/rsa.key" % PKI]
    with open(p.conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    p.signal(signal.SIGHUP)
    p.wait_log("reload result=ok")
    t = tls_context(ca).wrap_socket(connect("127.0.0.1", imp),
                                    server_hostname="localhost")
    assert "RSA" in t.cipher()[0], t.cipher()
    t.close()
    # A broken file is refused and changes nothing.
    with open(p.conf, "a") as f:
        f.write("bogus directive\n")
    p.signal(signal.SIGHUP)
    p.wait_log("result=refused")
    # The session from before both reloads still works.
    s.sendall(b"NOOP\r\n")
    r.expect("250 2.0.0")
    s.sendall(b"QUIT\r\n")
    r.expect("221 ")


def test_bytes_after_quit_are_not_called_injection(host_postlet, ca):
    """Only plaintext behind STARTTLS is an injection attempt; what a
    client sends after QUIT is merely dropped."""
    p = host_postlet
    s = connect("127.0.0.1", p.submission)
    r = Lines(s)
    r.expect("220 ")
    s.sendall(b"QUIT\r\nNOOP\r\n")
    r.expect("221 ")
    p.wait_log("disconnect reason=quit")
    assert "reason=pipelined-after-starttls" not in p.text()
