"""Relay tests that resolve host names, run inside a private namespace.

`unshare --net --mount` gives this process a network with only loopback
and lets it bind its own /etc/hosts and /etc/resolv.conf, so the names
below resolve to 127.0.0.1 from a file and no lookup can leave the
machine. The upstream stand-in, postlet and the client all run inside.

    unshare --net --mount python3 relay_names.py WORKDIR
"""

import os
import smtplib
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from conftest import PASSWORDS, PKI, Postlet, base_config, free_port  # noqa
from scenarios import tls_context  # noqa
from upstream import RELAY_PASSWORD, RELAY_USER, Upstream  # noqa

HOSTS = "127.0.0.1 localhost mail.test other.test\n::1 localhost\n"


def private_names(workdir):
    hosts = os.path.join(workdir, "hosts")
    resolv = os.path.join(workdir, "resolv.conf")
    with open(hosts, "w") as f:
        f.write(HOSTS)
    with open(resolv, "w") as f:
        f.write("nameserver 127.0.0.1\n")
    subprocess.run(["mount", "--bind", hosts, "/etc/hosts"], check=True)
    subprocess.run(["mount", "--bind", resolv, "/etc/resolv.conf"],
                   check=True)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


def credentials(workdir):
    path = os.path.join(workdir, "relay-credentials")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("%s:%s\n" % (RELAY_USER, RELAY_PASSWORD))
    return path


def dns_server(workdir, srv_port, dead_port):
    """dnsmasq on 127.0.0.1:53 inside the namespace, answering only for
    mail.test: two RFC 6186 records, the preferred one naming a port where
    nothing listens, so postlet must move on to the second."""
    return subprocess.Popen(
        ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
         "--no-resolv", "--no-hosts", "--listen-address=127.0.0.1",
         "--bind-interfaces", "--port=53", "--user=root",
         "--pid-file=" + os.path.join(workdir, "dnsmasq.pid"),
         "--host-record=mail.test,127.0.0.1",
         "--srv-host=_submissions._tcp.mail.test,mail.test,%d,0,5" %
         dead_port,
         "--srv-host=_submissions._tcp.mail.test,mail.test,%d,10,5" %
         srv_port], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_case(workdir, mode, relay_url, pki_dir, expect, port=None,
             logs=()):
    """One upstream in mode with certificates from pki_dir; expect is
    'ok' or the words the client's 4xx reply must carry."""
    port = port or free_port()
    url = relay_url % port if "%d" in relay_url else relay_url
    d = tempfile.mkdtemp(dir=workdir)
    with Upstream(port, mode, pki_dir):
        sub, imp = free_port(), free_port()
        lines = base_config(sub, imp, relay=url) + [
            "relay_credentials %s" % credentials(d),
            "relay_ca %s/ca.pem" % PKI]
        p = Postlet(d, lines).start()
        try:
            c = smtplib.SMTP_SSL("127.0.0.1", imp, timeout=30,
                                 context=tls_context(PKI + "/ca.pem"))
            c.login("alice", PASSWORDS["alice"])
            code, msg = c.mail("alice@example.test")
            if expect == "ok":
                assert code == 250, (url, code, msg)
                assert c.rcpt("bob@example.test")[0] == 250
                assert c.data(b"From: alice@example.test\r\n\r\nhi\r\n"
                              )[0] == 250
            else:
                assert code == 451, (url, code, msg)
                assert expect.encode() in msg, (url, msg, p.text())
            c.quit()
            for needle in logs:
                p.wait_log(needle)
        finally:
            p.stop()
    print("ok", mode, url, expect)


def main(workdir):
    private_names(workdir)
    bad = os.path.join(workdir, "badpki")
    os.makedirs(bad)
    # An upstream that shows the expired certificate of the same CA.
    for name in ("ca.pem", "ca.key"):
        os.symlink(os.path.join(PKI, name), os.path.join(bad, name))
    with open(os.path.join(bad, "chain.pem"), "w") as f:
        f.write(open(PKI + "/expired.pem").read() +
                open(PKI + "/ca.pem").read())
    os.symlink(PKI + "/expired.key", os.path.join(bad, "server.key"))
    run_case(workdir, "smtps", "smtps://mail.test:%d", PKI, "ok")
    run_case(workdir, "starttls", "smtp://mail.test:%d", PKI, "ok")
    run_case(workdir, "smtps", "smtps://other.test:%d", PKI, "4.7.5")
    run_case(workdir, "smtps", "smtps://mail.test:%d", bad, "expired")
    # A bare domain: the upstream is found by its SRV record.
    srv_port = free_port()
    dead_port = free_port()
    dns = dns_server(workdir, srv_port, dead_port)
    try:
        for _ in range(50):
            if os.path.exists(os.path.join(workdir, "dnsmasq.pid")):
                break
            time.sleep(0.1)
        run_case(workdir, "smtps", "mail.test", PKI, "ok", port=srv_port,
                 logs=["srv target=mail.test port=%d" % dead_port,
                       "srv target=mail.test port=%d" % srv_port])
    finally:
        dns.terminate()
        dns.wait()


if __name__ == "__main__":
    main(sys.argv[1])
