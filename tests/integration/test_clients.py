"""Real mail clients submit through postlet: curl and msmtp, each with
TLS verification and AUTH. (Debian's busybox and busybox-static are built
without the sendmail applet, so BusyBox's client is not among them.)"""

import os
import subprocess

import pytest

from conftest import PASSWORDS, PKI
from test_submission import msa, upstream  # noqa: F401 (fixtures)

CA = os.path.join(PKI, "ca.pem")
MESSAGE = (b"From: alice@example.test\r\nTo: bob@example.test\r\n"
           b"Subject: from a client\r\n\r\nbody line\r\n")


def delivered(msa):
    got = msa.upstream.recorder.wait()
    assert got["from"] == "alice@example.test"
    assert got["rcpts"] == ["bob@example.test"]
    assert got["data"].endswith(b"\r\n\r\nbody line\r\n"), got["data"]
    return got


@pytest.mark.parametrize("implicit", [True, False])
def test_curl(msa, workdir, implicit):
    path = os.path.join(workdir, "msg")
    with open(path, "wb") as f:
        f.write(MESSAGE)
    url = ("smtps://127.0.0.1:%d" % msa.implicit if implicit else
           "smtp://127.0.0.1:%d" % msa.submission)
    r = subprocess.run(
        ["curl", "-sS", "--url", url, "--ssl-reqd", "--cacert", CA,
         "--user", "alice:" + PASSWORDS["alice"],
         "--mail-from", "alice@example.test",
         "--mail-rcpt", "bob@example.test", "--upload-file", path],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    delivered(msa)


def test_msmtp(msa, workdir):
    r = subprocess.run(
        ["msmtp", "--host=127.0.0.1", "--port=%d" % msa.submission,
         "--tls=on", "--tls-starttls=on", "--tls-trust-file=" + CA,
         "--auth=on", "--user=alice",
         "--passwordeval=printf '%s' '" + PASSWORDS["alice"] + "'",
         "--from=alice@example.test", "bob@example.test"],
        input=MESSAGE, capture_output=True, timeout=60,
        env=dict(os.environ, HOME=workdir))
    assert r.returncode == 0, r.stderr
    delivered(msa)
