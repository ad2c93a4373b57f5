"""Start-up: each misconfiguration stops postlet with one clear message."""

import os
import socket
import subprocess

import pytest

from conftest import BINARY, PKI, base_config, free_port


def run(args, timeout=15):
    return subprocess.run([BINARY] + args, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def write_conf(workdir, lines):
    path = os.path.join(workdir, "postlet.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def good_lines():
    return base_config(free_port(), free_port())


def replace(lines, key, value):
    return [l for l in lines if not l.startswith(key + " ")] + \
        ["%s %s" % (key, value)]


def test_version_lists_options():
    r = run(["-V"])
    assert r.returncode == 0
    assert r.stdout.startswith("postlet ")
    assert "tap=1" in r.stdout


def test_usage():
    r = run(["-x"])
    assert r.returncode == 1
    assert "usage:" in r.stderr


def test_check_describes(workdir):
    path = write_conf(workdir, good_lines())
    r = run(["check", "-c", path])
    assert r.returncode == 0, r.stderr
    assert "%s: ok" % path in r.stdout
    assert "starttls (STARTTLS required" in r.stdout
    assert "tls (implicit TLS" in r.stdout
    assert "localhost" in r.stdout  # the certificate's subject


def test_bad_line_names_file_and_line(workdir):
    lines = good_lines()
    lines.insert(2, "max_sessions many")
    path = write_conf(workdir, lines)
    for args in (["check", "-c", path], ["-f", "-c", path]):
        r = run(args)
        assert r.returncode == 2, r
        assert "%s:3:" % path in r.stderr, r.stderr
        assert "max_sessions" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_unknown_directive(workdir):
    path = write_conf(workdir, good_lines() + ["relay_everything yes"])
    r = run(["-f", "-c", path])
    assert r.returncode == 2
    assert "relay_everything" in r.stderr


def test_missing_config_file(workdir):
    r = run(["-f", "-c", os.path.join(workdir, "nope.conf")])
    assert r.returncode == 2
    assert "nope.conf" in r.stderr


def test_missing_key(workdir):
    missing = os.path.join(workdir, "missing.key")
    path = write_conf(workdir, replace(good_lines(), "key", missing))
    r = run(["-f", "-c", path])
    assert r.returncode == 3, r
    assert missing in r.stderr


def test_mismatched_key(workdir):
    other = os.path.join(PKI, "other.key")
    path = write_conf(workdir, replace(good_lines(), "key", other))
    for args in (["check", "-c", path], ["-f", "-c", path]):
        r = run(args)
        assert r.returncode == 3, r
        assert "does not match" in r.stderr, r.stderr


def test_port_in_use(workdir):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        path = write_conf(workdir, base_config(port, free_port()))
        r = run(["-f", "-c", path])
    assert r.returncode == 4, r
    assert "127.0.0.1:%d" % port in r.stderr, r.stderr
    assert "in use" in r.stderr, r.stderr


def test_missing_tap_device(workdir):
    lines = good_lines() + ["backend tap", "tap_device pl-nosuch0",
                            "tap_address4 192.0.2.2/24"]
    path = write_conf(workdir, lines)
    r = run(["-f", "-c", path])
    assert r.returncode == 5, r
    assert "pl-nosuch0" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_max_sessions_beyond_build(workdir):
    path = write_conf(workdir, good_lines() + ["max_sessions 1000"])
    r = run(["-f", "-c", path])
    assert r.returncode == 2, r
    assert "max_sessions 1000" in r.stderr and "POSTLET_SESSIONS_MAX" in \
        r.stderr, r.stderr
