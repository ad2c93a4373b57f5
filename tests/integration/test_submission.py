"""Authenticated submission through postlet to an upstream stand-in, with
real clients; what arrives upstream is checked byte for byte."""

import os
import smtplib
import subprocess

import pytest

from conftest import PASSWORDS, PKI, base_config, free_port
from scenarios import Lines, connect, tls_context
from upstream import RELAY_PASSWORD, RELAY_USER, Upstream

CA = os.path.join(PKI, "ca.pem")


@pytest.fixture
def upstream():
    with Upstream(free_port()) as u:
        yield u


@pytest.fixture
def msa(run_postlet, upstream):
    sub, imp = free_port(), free_port()
    p = run_postlet(base_config(
        sub, imp, relay="smtp+plain://127.0.0.1:%d" % upstream.port))
    p.submission, p.implicit, p.upstream = sub, imp, upstream
    return p


def client(p, port=None, implicit=True):
    if implicit:
        c = smtplib.SMTP_SSL("127.0.0.1", port or p.implicit, timeout=20,
                             context=tls_context(CA))
    else:
        c = smtplib.SMTP("127.0.0.1", port or p.submission, timeout=20)
        c.starttls(context=tls_context(CA))
    c.ehlo("client.test")
    return c


MESSAGE = (b"From: Alice <alice@example.test>\r\n"
           b"To: Bob <bob@example.test>\r\n"
           b"Subject: hello\r\n"
           b"\r\n"
           b"Hi Bob,\r\n"
           b".a line that starts with a dot\r\n"
           b"..two dots\r\n"
           b"8-bit: caf\xc3\xa9\r\n"
           b"bye\r\n")


def body_of(data):
    return data.split(b"\r\n\r\n", 1)[1]


def headers_of(data):
    return data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


@pytest.mark.parametrize("implicit", [True, False])
def test_happy_path(msa, implicit):
    c = client(msa, implicit=implicit)
    c.login("alice", PASSWORDS["alice"])
    refused = c.sendmail("alice@example.test", ["bob@example.test"],
                         MESSAGE, mail_options=["BODY=8BITMIME"])
    assert refused == {}
    c.quit()
    got = msa.upstream.recorder.wait()
    assert got["from"] == "alice@example.test"
    assert got["rcpts"] == ["bob@example.test"]
    data = got["data"]
    # The body arrives exactly as written (dots unstuffed by aiosmtpd).
    assert body_of(data) == body_of(MESSAGE)
    hdrs = headers_of(data)
    assert hdrs[0].startswith(b"Received: from client.test"), hdrs
    assert b"with ESMTPSA" in b"\r\n".join(hdrs[:3])
    assert b"127.0.0.1" not in b"\r\n".join(hdrs[:3])
    assert any(h.startswith(b"Date: ") for h in hdrs)
    assert any(h.startswith(b"Message-ID: <") for h in hdrs)
    for line in headers_of(MESSAGE):
        assert line in hdrs
    msa.wait_log("result=accepted")
    line = msa.wait_log(" message user=")
    assert "user=alice" in line and "rcpts=1" in line


def test_wrong_password(msa):
    c = client(msa)
    with pytest.raises(smtplib.SMTPAuthenticationError) as e:
        c.login("alice", "nope")
    assert e.value.smtp_code == 535
    c.close()
    msa.wait_log("result=fail")


def test_auth_before_tls_refused(msa):
    s = connect("127.0.0.1", msa.submission)
    r = Lines(s)
    r.expect("220 ")
    s.sendall(b"EHLO c.test\r\n")
    ehlo = r.expect("250 ")
    assert not any("AUTH" in l for l in ehlo), ehlo
    s.sendall(b"AUTH PLAIN AGFsaWNlAGFsaWNlIHNlY3JldA==\r\n")
    r.expect("538 5.7.11")
    s.sendall(b"MAIL FROM:<alice@example.test>\r\n")
    r.expect("530 5.7.0")


def test_relay_attempt_without_auth(msa):
    c = client(msa)
    code, msg = c.mail("alice@example.test")
    assert code == 530, msg
    c.close()
    assert msa.upstream.recorder.messages == []


def test_sender_not_granted(msa):
    c = client(msa)
    c.login("bob", PASSWORDS["bob"])
    code, msg = c.mail("alice@example.test")
    assert code == 553 and b"alice@example.test" in msg, msg
    # The From: header is held to the same grant.
    code, _ = c.mail("bob@example.test")
    assert code == 250
    code, _ = c.rcpt("carol@example.test")
    assert code == 250
    code, msg = c.data(MESSAGE)
    assert code == 550 and b"alice@example.test" in msg, (code, msg)
    c.quit()
    assert msa.upstream.recorder.messages == []


def test_recipient_refused_upstream(msa):
    msa.upstream.recorder.refuse_rcpt["nobody@example.test"] = \
        "550 5.1.1 No such user here"
    c = client(msa)
    c.login("alice", PASSWORDS["alice"])
    c.mail("alice@example.test")
    code, msg = c.rcpt("nobody@example.test")
    assert code == 550 and b"5.1.1" in msg and b"No such user" in msg
    code, _ = c.rcpt("bob@example.test")
    assert code == 250
    code, _ = c.data(MESSAGE)
    assert code == 250
    c.quit()
    assert msa.upstream.recorder.wait()["rcpts"] == ["bob@example.test"]


def test_upstream_refuses_message(msa):
    msa.upstream.recorder.refuse_data = "554 5.7.1 Spam not welcome"
    c = client(msa)
    c.login("alice", PASSWORDS["alice"])
    c.mail("alice@example.test")
    c.rcpt("bob@example.test")
    code, msg = c.data(MESSAGE)
    assert code == 554 and b"Spam not welcome" in msg, (code, msg)
    c.quit()


def test_upstream_down(run_postlet):
    sub, imp = free_port(), free_port()
    dead = free_port()
    p = run_postlet(base_config(
        sub, imp, relay="smtp+plain://127.0.0.1:%d" % dead))
    p.implicit = imp
    c = client(p)
    c.login("alice", PASSWORDS["alice"])
    code, msg = c.mail("alice@example.test")
    assert code == 451 and msg.startswith(b"4.4.1"), (code, msg)
    c.quit()


def test_two_transactions_and_pipelining(msa):
    c = client(msa)
    c.login("alice", PASSWORDS["alice"])
    c.sendmail("alice@example.test", ["bob@example.test"], MESSAGE)
    c.sendmail("x@alice.test", ["a@example.test", "b@example.test"],
               MESSAGE.replace(b"alice@example.test", b"x@alice.test"))
    c.quit()
    second = msa.upstream.recorder.wait(2)
    assert second["from"] == "x@alice.test"
    assert second["rcpts"] == ["a@example.test", "b@example.test"]


def test_raw_pipelined_transaction(msa):
    s = tls_context(CA).wrap_socket(connect("127.0.0.1", msa.implicit),
                                    server_hostname="localhost")
    r = Lines(s)
    r.expect("220 ")
    s.sendall(b"EHLO p.test\r\nAUTH PLAIN AGFsaWNlAGFsaWNlIHNlY3JldA==\r\n"
              b"MAIL FROM:<alice>\r\nRCPT TO:<bob>\r\nRCPT TO:<carol>\r\n"
              b"DATA\r\n")
    r.expect("250 ")
    r.expect("235 2.7.0")
    r.expect("250 ")
    r.expect("250 ")
    r.expect("250 ")
    r.expect("354 ")
    s.sendall(b"From: alice\r\nSubject: s\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    r.expect("250 ")
    r.expect("221 ")
    got = msa.upstream.recorder.wait()
    # Unqualified addresses get the configured domain (RFC 6409 5.2).
    assert got["from"] == "alice@example.test"
    assert got["rcpts"] == ["bob@example.test", "carol@example.test"]
    assert b"From: alice@example.test\r\n" in got["data"]
    assert b"To: undisclosed-recipients:;\r\n" in got["data"]


def test_swaks(msa):
    r = subprocess.run(
        ["swaks", "--server", "127.0.0.1", "--port", str(msa.submission),
         "--tls", "--tls-verify", "--tls-ca-path", CA,
         "--auth", "LOGIN", "--auth-user", "bob",
         "--auth-password", PASSWORDS["bob"],
         "--from", "bob@example.test", "--to", "alice@example.test",
         "--header", "From: bob@example.test", "--body", "from swaks"],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    got = msa.upstream.recorder.wait()
    assert got["from"] == "bob@example.test"
    assert b"from swaks" in got["data"]


def test_8bit_message_and_upstream_without_8bitmime(run_postlet):
    """An upstream that lacks 8BITMIME: a client announcing BODY=8BITMIME
    hears so at MAIL, and nothing reaches the upstream."""
    import socket
    import threading

    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    lsock.settimeout(20)
    heard = []

    def seven_bit_upstream():
        conn, _ = lsock.accept()
        f = conn.makefile("rwb")
        try:
            f.write(b"220 old.test ESMTP\r\n")
            f.flush()
            for line in f:
                heard.append(line)
                if line.upper().startswith(b"EHLO"):
                    f.write(b"250-old.test\r\n250 PIPELINING\r\n")
                else:
                    f.write(b"250 ok\r\n")
                f.flush()
        except OSError:
            pass  # postlet drops the connection when its session ends
        conn.close()

    t = threading.Thread(target=seven_bit_upstream, daemon=True)
    t.start()
    sub, imp = free_port(), free_port()
    p = run_postlet(base_config(
        sub, imp, relay="smtp+plain://127.0.0.1:%d" %
        lsock.getsockname()[1]))
    c = smtplib.SMTP_SSL("127.0.0.1", imp, timeout=20,
                         context=tls_context(CA))
    c.login("alice", PASSWORDS["alice"])
    code, msg = c.mail("alice@example.test", ["BODY=8BITMIME"])
    assert code == 554 and msg.startswith(b"5.6.3"), (code, msg)
    c.quit()
    assert any(l.upper().startswith(b"EHLO") for l in heard), heard
    assert not any(l.upper().startswith(b"MAIL") for l in heard), heard
    lsock.close()
