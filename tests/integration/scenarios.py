"""SMTP dialogues that a user's client would have with postlet.

Each scenario takes the address, port and CA file, talks to a running
postlet and raises AssertionError on any deviation. The same functions run
in-process against the host backend and, through `python3 scenarios.py
NAME HOST PORT CA`, inside a network namespace against the tap backend.
"""

import smtplib
import socket
import ssl
import sys
import time

TIMEOUT = 10


def tls_context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = True
    return ctx


def server_name(host):
    # The test certificate names these addresses as IP SANs.
    return host


def connect(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect((host, port))
    return s


class Lines:
    """Reads CRLF-terminated reply lines from a socket or TLS socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise AssertionError("connection closed, have %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("ascii", "replace")

    def reply(self):
        """A whole (possibly multi-line) reply as a list of lines."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def expect(self, prefix):
        r = self.reply()
        assert r[-1].startswith(prefix), "expected %s, got %r" % (prefix, r)
        return r


def starttls_smtplib(host, port, ca):
    with smtplib.SMTP(host, port, timeout=TIMEOUT) as c:
        code, _ = c.ehlo("client.test")
        assert code == 250
        assert c.has_extn("starttls"), c.esmtp_features
        assert c.has_extn("enhancedstatuscodes")
        code, msg = c.starttls(context=tls_context(ca))
        assert code == 220, msg
        assert c.sock.version() == "TLSv1.2", c.sock.version()
        code, _ = c.ehlo("client.test")
        assert code == 250
        # RFC 3207 4.2: not offered again once TLS is up.
        assert not c.has_extn("starttls"), c.esmtp_features
        code, msg = c.noop()
        assert code == 250 and msg.startswith(b"2.0.0"), (code, msg)
        code, msg = c.docmd("QUIT")
        assert code == 221, (code, msg)
        c.close()


def implicit_smtplib(host, port, ca):
    with smtplib.SMTP_SSL(host, port, timeout=TIMEOUT,
                          context=tls_context(ca)) as c:
        code, _ = c.ehlo("client.test")
        assert code == 250
        assert not c.has_extn("starttls"), c.esmtp_features
        assert c.sock.cipher()[0].startswith("ECDHE-"), c.sock.cipher()
        code, msg = c.docmd("QUIT")
        assert code == 221, (code, msg)
        c.close()


def starttls_injection(host, port, ca):
    """Commands pipelined behind STARTTLS in plaintext never run."""
    s = connect(host, port)
    r = Lines(s)
    r.expect("220 ")
    s.sendall(b"EHLO client.test\r\n")
    r.expect("250 ")
    s.sendall(b"STARTTLS\r\nQUIT\r\n")
    r.expect("220 2.0.0")
    assert r.buf == b"", r.buf
    t = tls_context(ca).wrap_socket(s, server_hostname=server_name(host))
    tr = Lines(t)
    # Had the plaintext QUIT run, we would now read 221 or a closed link.
    t.sendall(b"NOOP\r\n")
    first = tr.reply()
    assert first[-1].startswith("250 2.0.0"), first
    t.sendall(b"QUIT\r\n")
    tr.expect("221 ")
    t.close()


def pipelined(host, port, ca):
    ctx = tls_context(ca)
    s = ctx.wrap_socket(connect(host, port), server_hostname=server_name(host))
    r = Lines(s)
    r.expect("220 ")
    s.sendall(b"EHLO a.test\r\nNOOP\r\nRSET\r\nNOOP x\r\nQUIT\r\n")
    ehlo = r.expect("250 ")
    assert any("PIPELINING" in line for line in ehlo), ehlo
    r.expect("250 2.0.0")
    r.expect("250 2.0.0")
    r.expect("250 2.0.0")
    r.expect("221 2.0.0")
    s.close()


def bad_commands(host, port, ca):
    s = tls_context(ca).wrap_socket(connect(host, port),
                                    server_hostname=server_name(host))
    r = Lines(s)
    r.expect("220 ")
    for cmd, want in [
        (b"FROB", "500 5.5.1"),
        (b"EHLO", "501 5.5.4"),
        (b"RSET now", "501 5.5.4"),
        (b"MAIL FROM:<a@b.test>", "503 5.5.1"),
        (b"HELO a.test", "250 "),
        # RFC 6409 5.3: no transaction without AUTH, ever.
        (b"MAIL FROM:<a@b.test>", "530 5.7.0"),
        (b"RCPT TO:<a@b.test>", "503 5.5.1"),
        (b"DATA", "503 5.5.1"),
        (b"BDAT 10 LAST", "502 5.5.1"),
        (b"VRFY a", "252 2.5.0"),
        (b"NO\x01OP", "500 5.5.2"),
        (b"NO\x00OP", "500 5.5.2"),
        (b"STARTTLS", "503 5.5.1"),
        (b"X" * 5000, "500 5.5.2"),
        (b"NOOP", "250 2.0.0"),
    ]:
        s.sendall(cmd + b"\r\n")
        got = r.reply()
        assert got[-1].startswith(want), (cmd[:20], want, got)
    s.sendall(b"QUIT\r\n")
    r.expect("221 ")
    s.close()


def submit(host, port, ca):
    """alice submits one message over implicit TLS; 250 expected."""
    with smtplib.SMTP_SSL(host, port, timeout=TIMEOUT,
                          context=tls_context(ca)) as c:
        c.ehlo("client.test")
        c.login("alice", "alice secret")
        refused = c.sendmail("alice@example.test", ["bob@example.test"],
                             b"From: alice@example.test\r\n"
                             b"Subject: over tap\r\n\r\nhello\r\n")
        assert refused == {}, refused
        c.quit()


SCENARIOS = {
    f.__name__: f
    for f in (starttls_smtplib, implicit_smtplib, starttls_injection,
              pipelined, bad_commands, submit)
}

if __name__ == "__main__":
    name, host, port, ca = sys.argv[1:5]
    SCENARIOS[name](host, int(port), ca)
    print("ok", name)
