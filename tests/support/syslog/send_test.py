#!/usr/bin/env python3
"""Smoke test / documentation for tests/support/syslog/rsyslog.sh.

Sends RFC 5424 and RFC 3164 messages to a running instance over every
listener (plain TCP with octet counting and with LF framing, TLS, mutual TLS,
RELP, UDP) and checks the JSON lines rsyslog writes to DIR/out/<listener>.jsonl.
Python 3 stdlib only.

    tests/support/syslog/rsyslog.sh start /tmp/rs
    python3 tests/support/syslog/send_test.py /tmp/rs          # checks, exit 1 on failure
    python3 tests/support/syslog/send_test.py /tmp/rs --probe  # also prints quirk probes
"""
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
BOM = b"\xef\xbb\xbf"
# Structured data exactly as it goes on the wire: RFC 5424 PARAM-VALUE escapes
# \" \\ \] must be preserved verbatim by rsyslog.
SD = b'[auditfwd@32473 user="A\\"B" note="x\\]y" path="C:\\\\dir"][meta@32473 seq="1"]'

FAILURES = []


def check(cond, what):
    print(("  ok   " if cond else "  FAIL ") + what)
    if not cond:
        FAILURES.append(what)


def load_paths(d):
    out = subprocess.run([os.path.join(HERE, "rsyslog.sh"), "paths", d],
                         check=True, capture_output=True, text=True).stdout
    env = {}
    for line in out.splitlines():
        k, _, v = line.partition("=")
        env[k] = v
    return env


# ------------------------------------------------------------------ messages
def messages(run, transport, lf_framing=False):
    """Returns list of (name, wire_bytes, expected_fields)."""
    tag = f"{run}-{transport}"
    listener = transport.split("-")[0]
    msgs = []
    body = f"first line\nsecond line\twith tab id={tag}-sd".encode()
    if lf_framing:  # an embedded LF would split the frame
        body = f"single line\twith tab id={tag}-sd".encode()
    m = (b"<165>1 2024-05-06T07:08:09.123456Z host1.example auditfwd 4242 AUDIT "
         + SD + b" " + body)
    msgs.append(("rfc5424+sd", m, dict(
        pri=165, facility=20, severity=5, protocol_version="1",
        hostname="host1.example", app_name="auditfwd", procid="4242",
        msgid="AUDIT", structured_data=SD.decode(), msg=body.decode(),
        rawmsg=m.decode(), input=listener)))
    text = f"Grüße, 日本語 ✓ id={tag}-bom"
    m = b"<134>1 2024-05-06T07:08:09.5+02:00 host1 auditfwd - - - " + BOM + text.encode()
    msgs.append(("rfc5424+bom", m, dict(
        pri=134, facility=16, severity=6, protocol_version="1",
        hostname="host1", app_name="auditfwd", procid="-", msgid="-",
        structured_data="-", rawmsg=m.decode(), input=listener,
        # msg checked separately (BOM handling is what we want to learn)
    )))
    m = f"<38>May  6 07:08:09 host3164 sshd[123]: Accepted password for bob id={tag}-3164".encode()
    msgs.append(("rfc3164", m, dict(
        pri=38, facility=4, severity=6, protocol_version="0",  # "0", not empty
        hostname="host3164", app_name="sshd", procid="123", msgid="-",
        structured_data="-",
        msg=f" Accepted password for bob id={tag}-3164",  # leading space kept
        rawmsg=m.decode(), input=listener)))
    return msgs


def octet(m):
    return str(len(m)).encode() + b" " + m


# ------------------------------------------------------------------ transports
def tcp_connect(port, ctx=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if ctx is not None:
        s = ctx.wrap_socket(s, server_hostname="localhost")
    return s


def send_stream(port, data, ctx=None):
    s = tcp_connect(port, ctx)
    s.sendall(data)
    if ctx is not None:
        try:
            s.unwrap()  # TLS close_notify
        except (OSError, ssl.SSLError):
            pass
    s.close()


def send_udp(port, msgs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for m in msgs:
        s.sendto(m, ("127.0.0.1", port))
    s.close()


class Relp:
    """Minimal RELP client: frame = TXNR SP COMMAND SP DATALEN [SP DATA] LF."""

    def __init__(self, port, offers=b"relp_version=0\nrelp_software=send_test.py,1,-\ncommands=syslog"):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
        self.txnr = 0
        self.open_rsp = self.cmd(b"open", offers)

    def send_frame(self, command, data):
        self.txnr += 1
        frame = str(self.txnr).encode() + b" " + command + b" " + str(len(data)).encode()
        if data:
            frame += b" " + data
        self.s.sendall(frame + b"\n")
        return self.txnr

    def read_frame(self):
        def need(n):
            while len(self.buf) < n:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise EOFError("RELP server closed connection; buffer=%r" % self.buf)
                self.buf += chunk

        # header: TXNR SP COMMAND SP DATALEN, then SP DATA (if DATALEN>0), then LF
        while True:
            parts = self.buf.split(b" ", 3)
            if len(parts) >= 3 and (len(parts) == 4 or b"\n" in parts[2]):
                break
            need(len(self.buf) + 1)
        txnr, command = int(parts[0]), parts[1]
        rest = self.buf[len(parts[0]) + len(parts[1]) + 2:]
        lenstr = rest.split(b" ", 1)[0].split(b"\n", 1)[0]
        datalen = int(lenstr)
        hdr = len(parts[0]) + len(parts[1]) + 2 + len(lenstr)
        total = hdr + (1 + datalen if datalen else 0) + 1
        need(total)
        data = self.buf[hdr + 1:hdr + 1 + datalen] if datalen else b""
        assert self.buf[total - 1:total] == b"\n", "bad RELP trailer: %r" % self.buf[:total]
        self.buf = self.buf[total:]
        return txnr, command, data

    def cmd(self, command, data):
        n = self.send_frame(command, data)
        txnr, c, d = self.read_frame()
        assert txnr == n and c == b"rsp", (txnr, c, d)
        return d

    def syslog(self, m):
        return self.cmd(b"syslog", m)

    def close(self):
        rsp = self.cmd(b"close", b"")
        extra = []
        try:  # the server announces its side of the close
            extra.append(self.read_frame())
        except (EOFError, OSError):
            pass
        self.s.close()
        return rsp, extra


# ------------------------------------------------------------------ output
def read_jsonl(out_dir, listener):
    path = os.path.join(out_dir, listener + ".jsonl")
    recs = []
    if os.path.exists(path):
        with open(path, "rb") as f:
            for raw in f:
                recs.append(json.loads(raw))  # every line must be valid JSON
    return recs


def wait_records(out_dir, listener, needle, count, timeout=5.0):
    deadline = time.time() + timeout
    while True:
        recs = [r for r in read_jsonl(out_dir, listener) if needle in r.get("rawmsg", "")]
        if len(recs) >= count or time.time() > deadline:
            return recs
        time.sleep(0.05)


def verify(out_dir, listener, run, transport, msgs):
    tag = f"{run}-{transport}"
    recs = wait_records(out_dir, listener, f"id={tag}-", len(msgs))
    print(f"[{transport}] -> out/{listener}.jsonl: {len(recs)} record(s)")
    check(len(recs) == len(msgs), f"{transport}: {len(msgs)} records expected, got {len(recs)}")
    for name, wire, exp in msgs:
        ident = wire.decode().rsplit("id=", 1)[1].rstrip("\n")
        match = [r for r in recs if r["rawmsg"].endswith("id=" + ident)]
        if not match:
            check(False, f"{transport}/{name}: record missing")
            continue
        r = match[0]
        print("    " + json.dumps(r, ensure_ascii=False))
        for k, v in exp.items():
            check(r.get(k) == v, f"{transport}/{name}: {k} == {v!r} (got {r.get(k)!r})")
        if name == "rfc5424+bom":
            payload = wire.split(b" - - - ", 1)[1]
            check(r["msg"] == payload.decode(), f"{transport}/{name}: msg is the payload, BOM kept")
            check(r["timestamp"] == "2024-05-06T07:08:09.5+02:00",
                  f"{transport}/{name}: timestamp {r['timestamp']!r}")
        if name == "rfc5424+sd":
            check(r["timestamp"] == "2024-05-06T07:08:09.123456Z",
                  f"{transport}/{name}: timestamp {r['timestamp']!r}")
        if name == "rfc3164":  # no year in RFC 3164: rsyslog assumes one, local TZ
            check(r["timestamp"][4:19] == "-05-06T07:08:09",
                  f"{transport}/{name}: timestamp {r['timestamp']!r}")
    return recs


def tls_ctx(paths, client_cert=False):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=paths["CA"])
    ctx.check_hostname = True
    if client_cert:
        ctx.load_cert_chain(paths["CLIENT_CERT"], paths["CLIENT_KEY"])
    return ctx


# ------------------------------------------------------------------ main
def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    probe = "--probe" in sys.argv[2:]
    p = load_paths(d)
    out = p["OUT_DIR"]
    run = uuid.uuid4().hex[:8]
    port = {k: int(p["SYSLOG_%s_PORT" % k.upper()]) for k in ("tcp", "tls", "mtls", "relp", "udp")}
    print(f"run id {run}, ports {port}")

    # 1. plain TCP, octet counting (RFC 6587 3.4.1): all frames in ONE write,
    #    the first one with an embedded LF -> must stay one message.
    ms = messages(run, "tcp-octet")
    trailing = f"<13>1 2024-05-06T07:08:09Z h app - - - trailing LF id={run}-tcp-octet-lf\n".encode()
    send_stream(port["tcp"], b"".join(octet(m) for _, m, _ in ms) + octet(trailing))
    # parser.dropTrailingLFOnReception (default on) removes the final LF.
    ms_plus = ms + [("trailing-lf", trailing, dict(msg=f"trailing LF id={run}-tcp-octet-lf",
                                                   rawmsg=trailing[:-1].decode()))]
    verify(out, "tcp", run, "tcp-octet", ms_plus)

    # 2. plain TCP, LF framing (RFC 6587 3.4.2): three messages in ONE write.
    ms = messages(run, "tcp-lf", lf_framing=True)
    send_stream(port["tcp"], b"".join(m + b"\n" for _, m, _ in ms))
    verify(out, "tcp", run, "tcp-lf", ms)

    # 3. TLS (RFC 5425: octet counting), server cert verified against the CA
    #    with hostname "localhost".
    ms = messages(run, "tls")
    send_stream(port["tls"], b"".join(octet(m) for _, m, _ in ms), tls_ctx(p))
    verify(out, "tls", run, "tls", ms)

    # 4. mutual TLS with the client certificate.
    ms = messages(run, "mtls")
    send_stream(port["mtls"], b"".join(octet(m) for _, m, _ in ms), tls_ctx(p, client_cert=True))
    verify(out, "mtls", run, "mtls", ms)

    #    ... and without a client certificate: must not be accepted.
    before = len(read_jsonl(out, "mtls"))
    seen = []
    try:
        s = tcp_connect(port["mtls"], tls_ctx(p))
        seen.append(f"handshake ok ({s.version()})")
        s.sendall(octet(b"<13>1 - - - - - - must not arrive id=" + run.encode() + b"-nocert"))
        seen.append("write ok")
        s.settimeout(3)
        seen.append(f"read -> {s.recv(1)!r}")
        s.close()
    except (ssl.SSLError, OSError) as e:
        seen.append(f"error {e!r}")
    time.sleep(0.5)
    check(len(read_jsonl(out, "mtls")) == before, "mtls without client cert: nothing logged")
    print(f"    client without cert sees: {'; '.join(seen)}")

    # 5. RELP.
    ms = messages(run, "relp")
    r = Relp(port["relp"])
    print(f"[relp] open rsp: {r.open_rsp!r}")
    check(r.open_rsp.startswith(b"200 OK"), "relp: open answered 200 OK")
    for _, m, _ in ms:
        rsp = r.syslog(m)
        check(rsp == b"200 OK", f"relp: syslog rsp {rsp!r}")
    rsp, extra = r.close()
    print(f"[relp] close rsp: {rsp!r}, then: {extra!r}")
    verify(out, "relp", run, "relp", ms)

    # 6. RFC 3164 is included in every batch above; 7. UDP:
    ms = messages(run, "udp")
    send_udp(port["udp"], [m for _, m, _ in ms])
    verify(out, "udp", run, "udp", ms)

    if probe:
        probes(p, port, out, run)

    print()
    if FAILURES:
        print(f"{len(FAILURES)} check(s) FAILED")
        sys.exit(1)
    print("all checks passed")


def probes(p, port, out, run):
    """Observations, not assertions: print what rsyslog does in edge cases."""
    print("\n=== probes")

    def last(listener, needle):
        recs = wait_records(out, listener, needle, 1, timeout=3)
        return recs[-1] if recs else None

    # Size limits on plain TCP (maxMessageSize=64k).
    for size in (65536 - 200, 70000):
        tag = f"id={run}-size{size}"
        head = b"<13>1 2024-05-06T07:08:09Z h app - - - " + tag.encode() + b" "
        m = head + b"x" * (size - len(head))
        send_stream(port["tcp"], octet(m) + octet(f"<13>1 - - - - - - after {tag}".encode()))
        time.sleep(0.7)
        recs = [r for r in read_jsonl(out, "tcp") if tag in r["rawmsg"]]
        print(f"[size {len(m)} octet-counted tcp] records: "
              + ", ".join(f"rawmsg len {len(r['rawmsg'])} msg[:40]={r['msg'][:40]!r}" for r in recs))
        tail = [r for r in read_jsonl(out, "tcp")[-4:] if tag not in r["rawmsg"]]
        if tail:
            print("   other recent records:", [r["rawmsg"][:60] for r in tail])

    # UDP size
    tag = f"id={run}-udpbig"
    m = b"<13>1 2024-05-06T07:08:09Z h app - - - " + tag.encode() + b" " + b"y" * 60000
    send_udp(port["udp"], [m])
    r = last("udp", tag)
    print(f"[size {len(m)} udp] rawmsg len {len(r['rawmsg']) if r else None}")

    # Control characters with escaping off; NUL byte.
    tag = f"id={run}-ctl"
    m = b"<13>1 2024-05-06T07:08:09Z h app - - - a\x01b\x00c\x7fd\re " + tag.encode()
    send_stream(port["tcp"], octet(m))
    r = last("tcp", tag)
    print(f"[control chars] msg={r['msg']!r}" if r else "[control chars] not received")

    # Leading spaces in MSG / empty MSG / NILVALUE MSG
    for body, label in ((b"  two leading spaces", "lead"), (b"", "empty")):
        tag = f"{run}-{label}"
        m = b"<13>1 2024-05-06T07:08:09Z h app - " + tag.encode() + b" -" + (b" " + body if body else b"")
        send_stream(port["tcp"], octet(m))
        recs = wait_records(out, "tcp", tag, 1, timeout=3)
        print(f"[msg {label}] {json.dumps(recs[-1], ensure_ascii=False) if recs else None}")

    # RFC 3164 variants
    for m in (b"<13>May  6 07:08:09 h3164 app: colon-space id=" + run.encode() + b"-3164a",
              b"<13>May  6 07:08:09 h3164 app[77]:no space id=" + run.encode() + b"-3164b",
              b"<13>2024-05-06T07:08:09Z h3164 app: rfc3339 ts id=" + run.encode() + b"-3164c",
              b"no pri at all id=" + run.encode() + b"-3164d"):
        send_stream(port["tcp"], m + b"\n")
        tag = m.decode().rsplit("id=", 1)[1]
        recs = wait_records(out, "tcp", tag, 1, timeout=3)
        print(f"[3164] {json.dumps(recs[-1], ensure_ascii=False) if recs else None}")

    # RFC 5424 with an over-long APP-NAME (> 48 chars)
    tag = f"id={run}-longapp"
    m = b"<13>1 2024-05-06T07:08:09Z h " + b"a" * 60 + b" - - - " + tag.encode()
    send_stream(port["tcp"], octet(m))
    r = last("tcp", tag)
    print(f"[5424 app-name 60 chars] {json.dumps(r)}")

    # RELP offer variants
    for offers in (b"relp_version=0\nrelp_software=x\ncommands=syslog",
                   b"relp_version=0\ncommands=syslog",
                   b"relp_version=0",
                   b"commands=syslog",
                   b""):
        try:
            r = Relp(port["relp"], offers)
            res = f"open rsp {r.open_rsp!r}"
            try:
                res += f"; syslog rsp {r.syslog(b'<13>1 - - - - - - relp offers probe id=' + run.encode()  + b'-offers')!r}"
                res += f"; close {r.close()!r}"
            except Exception as e:  # noqa: BLE001
                res += f"; syslog/close failed {e!r}"
        except Exception as e:  # noqa: BLE001
            res = f"open failed {e!r}"
        print(f"[relp offers {offers!r}] {res}")

    # TLS: does the anon port also accept a client certificate / plain TCP?
    try:
        send_stream(port["tls"], octet(f"<13>1 - - - - - - anon with cert id={run}-anoncert".encode()),
                    tls_ctx(p, client_cert=True))
        print(f"[tls anon + client cert] {last('tls', run + '-anoncert') is not None}")
    except Exception as e:  # noqa: BLE001
        print(f"[tls anon + client cert] failed {e!r}")
    for name, client_cert in (("tls", False), ("mtls", True)):
        for maxv in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            c = tls_ctx(p, client_cert)
            c.maximum_version = maxv
            s = c.wrap_socket(socket.create_connection(("127.0.0.1", port[name])),
                              server_hostname="127.0.0.1")  # IP SAN
            print(f"[{name} max {maxv.name}, SNI/verify 127.0.0.1] {s.version()} {s.cipher()[0]}")
            s.sendall(octet(f"<13>1 - - - - - - version probe {maxv.name} id={run}-ver".encode()))
            try:
                s.unwrap()
            except (OSError, ssl.SSLError):
                pass  # rsyslog closes without answering close_notify
            s.close()


if __name__ == "__main__":
    main()
