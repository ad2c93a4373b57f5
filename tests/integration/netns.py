"""A throw-away network namespace with a TAP device, for the tap backend.

The namespace holds one TAP device whose kernel side has 192.0.2.1/24 and
2001:db8::1/64 (documentation ranges, RFC 5737 and RFC 3849); postlet,
started inside with run(), attaches to the device and is a host of its own
on that link. Optionally dnsmasq hands out 192.0.2.50-60 by DHCP and sends
router advertisements for SLAAC.

    try:
        ns = Netns(dhcp=True)
    except NetnsUnavailable as e:
        pytest.skip(str(e))
    with ns:
        proc = ns.run([postlet, "-f", conf], stderr=subprocess.PIPE)
        sock = ns.connect("192.0.2.2", 587)

Everything is torn down on exit, failures included: processes started here
are killed, then the namespace is deleted with the device in it.
"""

import ctypes
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid

HOST4 = "192.0.2.1"
HOST6 = "2001:db8::1"
DHCP_FIRST = "192.0.2.50"
DHCP_LAST = "192.0.2.60"

_CLONE_NEWNET = 0x40000000


class NetnsUnavailable(Exception):
    """This machine or user cannot make namespaces: skip, do not fail."""


def _check_available(dhcp):
    if os.geteuid() != 0:
        raise NetnsUnavailable("network namespaces need root")
    if not os.path.exists("/dev/net/tun"):
        raise NetnsUnavailable("no /dev/net/tun (kernel without TUN/TAP)")
    if shutil.which("ip") is None:
        raise NetnsUnavailable("no ip(8) command (iproute2)")
    if dhcp and shutil.which("dnsmasq", path="/usr/sbin:/usr/bin") is None:
        raise NetnsUnavailable("no dnsmasq for DHCP")


class Netns:
    """A namespace named postlet-XXXXXXXX with one TAP device in it."""

    def __init__(self, device="tap0", dhcp=False, slaac=False):
        _check_available(dhcp or slaac)
        self.name = "postlet-" + uuid.uuid4().hex[:8]
        self.device = device
        self.dhcp = dhcp
        self.slaac = slaac
        self.tmp = None
        self.procs = []
        self._created = False

    def __enter__(self):
        try:
            self._setup()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def _ip(self, *args):
        subprocess.run(["ip", "-n", self.name, *args], check=True,
                       capture_output=True, text=True)

    def _setup(self):
        self.tmp = tempfile.mkdtemp(prefix="postlet-netns-")
        subprocess.run(["ip", "netns", "add", self.name], check=True,
                       capture_output=True, text=True)
        self._created = True
        self._ip("link", "set", "lo", "up")
        self._ip("tuntap", "add", "dev", self.device, "mode", "tap")
        self._ip("addr", "add", HOST4 + "/24", "dev", self.device)
        # nodad: usable at once, not a second later.
        self._ip("addr", "add", HOST6 + "/64", "dev", self.device, "nodad")
        self._ip("link", "set", self.device, "up")
        if self.dhcp or self.slaac:
            self._start_dnsmasq()

    def _start_dnsmasq(self):
        pidfile = os.path.join(self.tmp, "dnsmasq.pid")
        argv = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                "--interface=" + self.device, "--bind-interfaces",
                "--port=0", "--no-resolv", "--no-hosts", "--user=root",
                "--pid-file=" + pidfile,
                "--dhcp-leasefile=" + self.leasefile(),
                "--log-facility=" + os.path.join(self.tmp, "dnsmasq.log"),
                "--log-dhcp"]
        if self.dhcp:
            argv.append("--dhcp-range=%s,%s,255.255.255.0,1h"
                        % (DHCP_FIRST, DHCP_LAST))
        if self.slaac:
            argv += ["--enable-ra", "--dhcp-range=2001:db8::,ra-only,64,1h"]
        proc = self.run(argv, stdin=subprocess.DEVNULL)
        # The pid file is written once its sockets are bound.
        deadline = time.monotonic() + 5
        while not os.path.exists(pidfile):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("dnsmasq did not start: " + self.log())
            time.sleep(0.05)

    def leasefile(self):
        return os.path.join(self.tmp, "dnsmasq.leases")

    def leases(self):
        """DHCP leases given so far, as (mac, address, hostname) tuples."""
        try:
            with open(self.leasefile()) as f:
                return [tuple(line.split()[1:4]) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def log(self):
        """What dnsmasq logged, for assertion messages."""
        if self.tmp is None:
            return ""
        try:
            with open(os.path.join(self.tmp, "dnsmasq.log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def run(self, argv, **popen_kwargs):
        """Start argv inside the namespace; it is killed on close()."""
        proc = subprocess.Popen(["ip", "netns", "exec", self.name, *argv],
                                **popen_kwargs)
        self.procs.append(proc)
        return proc

    def connect(self, host, port, timeout=5.0):
        """A TCP socket connected from inside the namespace.

        A socket stays in the namespace it was made in, so a short-lived
        thread enters the namespace (setns affects only the calling thread)
        and makes it there; the test then uses it like any other socket.
        """
        result = {}

        def inside():
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                fd = os.open("/run/netns/" + self.name, os.O_RDONLY)
                try:
                    if libc.setns(fd, _CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), "setns")
                finally:
                    os.close(fd)
                result["sock"] = socket.create_connection((host, port),
                                                          timeout=timeout)
            except Exception as e:  # handed to the caller's thread
                result["error"] = e

        t = threading.Thread(target=inside)
        t.start()
        t.join()
        if "error" in result:
            raise result["error"]
        return result["sock"]

    def wait_connect(self, host, port, timeout=10.0):
        """connect(), retried until the server answers or timeout passes."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.connect(host, port, timeout=1.0)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def close(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.procs = []
        if self._created:
            # Deleting the namespace deletes the TAP device with it.
            subprocess.run(["ip", "netns", "del", self.name],
                           capture_output=True)
            self._created = False
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
