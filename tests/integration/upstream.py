"""A stand-in for postlet's upstream relay: aiosmtpd on loopback.

It records every transaction byte for byte, can require STARTTLS or
implicit TLS with the test certificate and AUTH with one user, and can be
told to refuse a recipient or a message, so tests check what really
arrives upstream and what postlet makes of the upstream's verdicts.
"""

import asyncio
import logging
import ssl
import threading
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

RELAY_USER = "postlet-relay"
RELAY_PASSWORD = "relay pass:word"


class Recorder:
    def __init__(self):
        self.messages = []
        self.refuse_rcpt = {}     # address -> reply
        self.refuse_data = None   # reply for every message
        self.rcpt_delay = 0       # seconds before answering RCPT
        self.cond = threading.Condition()

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return self.refuse_data
        with self.cond:
            self.messages.append({
                "from": envelope.mail_from,
                "mail_options": list(envelope.mail_options),
                "rcpts": list(envelope.rcpt_tos),
                "data": envelope.original_content,
                "auth": session.authenticated,
                "tls": server.transport.get_extra_info("ssl_object")
                is not None,
            })
            self.cond.notify_all()
        return "250 2.0.0 Queued as T%d" % len(self.messages)

    def wait(self, n=1, timeout=15):
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.messages) >= n,
                                      timeout):
                raise AssertionError("upstream got %d messages, not %d" %
                                     (len(self.messages), n))
            return self.messages[n - 1]


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and
          auth_data.login == RELAY_USER.encode() and
          auth_data.password == RELAY_PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


def tls_server_context(pki):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki + "/chain.pem", pki + "/server.key")
    return ctx


# aiosmtpd warns about AUTH without its own STARTTLS even where the
# connection is implicit TLS; the tests know.
warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
logging.getLogger("mail.log").setLevel(logging.ERROR)


class Upstream:
    """mode: "plain" (no TLS, no AUTH), "starttls" or "smtps" (both with
    the test certificate and AUTH required)."""

    def __init__(self, port, mode="plain", pki=None, eightbit=True):
        self.port = port
        self.mode = mode
        self.recorder = Recorder()
        kw = {"enable_SMTPUTF8": True}
        if mode == "starttls":
            kw.update(tls_context=tls_server_context(pki),
                      require_starttls=True, auth_required=True,
                      authenticator=_authenticator)
        elif mode == "smtps":
            kw.update(server_kwargs={"ssl": None},
                      auth_required=True, auth_require_tls=False,
                      authenticator=_authenticator)
        ssl_ctx = tls_server_context(pki) if mode == "smtps" else None
        kw.pop("server_kwargs", None)
        self.controller = Controller(self.recorder, hostname="127.0.0.1",
                                     port=port, ssl_context=ssl_ctx, **kw)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def serve(host, port, mode, pki, out):
    """Run an upstream until killed, appending each message to out as
    one JSON line: for tests that start it inside a namespace."""
    import json
    import time

    up = Upstream(int(port), mode, pki)
    up.controller.hostname = host
    rec = up.recorder
    done = [0]

    def dump():
        with rec.cond:
            while len(rec.messages) > done[0]:
                m = dict(rec.messages[done[0]])
                m["data"] = m["data"].decode("latin-1")
                with open(out, "a") as f:
                    f.write(json.dumps(m) + "\n")
                done[0] += 1

    with up:
        print("listening", flush=True)
        while True:
            time.sleep(0.1)
            dump()


if __name__ == "__main__":
    import sys

    serve(*sys.argv[1:6])
