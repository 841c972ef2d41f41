#!/usr/bin/env python3
"""Splunk HTTP Event Collector (HEC) stand-in for auditfwd's integration tests.

Python 3.11 standard library only. Listens on 127.0.0.1, speaks the JSON event
endpoint, indexer acknowledgement, the health endpoint, and injects faults.
See README.md next to this file for the flags and what is not modelled.

Sources, cited below by tag:

[FMT]   Splunk docs, "Format events for HTTP Event Collector"
        https://help.splunk.com/splunk-enterprise/get-data-in/collect-http-event-data/format-events-for-http-event-collector
        ("Authorization: Splunk <hec_token>"; envelope keys time/host/source/
        sourcetype/index/event/fields; time is epoch seconds "<sec>.<ms>").
[TRB]   Splunk docs, "Troubleshoot HTTP Event Collector" (status code table)
        https://help.splunk.com/en/splunk-enterprise/get-data-in/collect-http-event-data/troubleshoot-http-event-collector
        The page is in the search corpus but only its opening (logging) was
        retrievable here, NOT the table itself. The table rows used below were
        confirmed through copies of it: Splunk's own cloudfwd client
        (com/splunk/cloudfwd/impl/http/ServerErrors.java, "Copyright 2017
        Splunk, Inc.", codes 0-14 with HTTP statuses) and the list quoted by a
        Splunk engineer in open-telemetry/opentelemetry-collector#7312.
[ACK]   Splunk docs, "About HTTP Event Collector Indexer Acknowledgment"
        https://help.splunk.com/splunk-enterprise/get-data-in/collect-http-event-data/about-http-event-collector-indexer-acknowledgment
        (per-token useACK, channel GUID, ackId, POST /services/collector/ack).
[REST]  Splunk docs, "HTTP Event Collector REST API endpoints" / RESTinput
        (services/collector, /event, /event/1.0, /ack, /health, /health/1.0;
        health: 200 "HEC is available and accepting input", 503 "HEC is
        unhealthy, queues are full" -- quoted in third-party clients).
[RUN]   A public third-party interop run against a real splunk/splunk:10.4.3
        and Splunk Cloud 10.5 (a repo's script/splunk-interop README): batch
        semantics of codes 6/7/12/13/15, unknown envelope keys, 404/405
        bodies, deflate -> 415, ackIds per channel from 0.
[ISSUE] GitHub threads with real Splunk responses: moby/moby#35862 (objects
        before the invalid one are indexed), fluent-bit#2881 and
        splunk-connect-for-kubernetes#565 ({"text":"Invalid data
        format","code":6,"invalid-event-number":0}), fluent-plugin-splunk-
        http-eventcollector#19 and kafka-connect-splunk#200 (code 13 with
        invalid-event-number, and with ackId on an ack token).

Anything marked ASSUMED below could not be confirmed from those sources.
"""

import argparse
import gzip
import heapq
import json
import re
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# --------------------------------------------------------------------------
# HEC status codes: code -> (HTTP status, text).  [TRB] unless noted.
# --------------------------------------------------------------------------
HEC = {
    0: (200, "Success"),
    1: (403, "Token disabled"),                    # [TRB] (not produced here)
    2: (401, "Token is required"),                 # [TRB]
    3: (401, "Invalid authorization"),             # [TRB]
    4: (403, "Invalid token"),                     # [TRB]
    5: (400, "No data"),                           # [TRB]
    6: (400, "Invalid data format"),               # [TRB]
    7: (400, "Incorrect index"),                   # [TRB]
    8: (500, "Internal server error"),             # [TRB] (not produced here)
    9: (503, "Server is busy"),                    # [TRB]
    10: (400, "Data channel is missing"),          # [TRB]; Splunk Cloud 10.5 answers code 28 instead [RUN]
    11: (400, "Invalid data channel"),             # [TRB]
    12: (400, "Event field is required"),          # [TRB]
    13: (400, "Event field cannot be blank"),      # [TRB]
    14: (400, "ACK is disabled"),                  # [TRB] (cloudfwd copy of the table)
    15: (400, "Error in handling indexed fields"), # [TRB] as copied by third-party clients; [RUN] saw it for nested fields
    16: (400, "Query string authorization is not enabled"),  # [TRB] as copied by third-party clients
    17: (200, "HEC is healthy"),                   # [TRB]; Splunk Cloud /health answered exactly this [RUN]
    18: (503, "HEC is unhealthy, queues are full"),  # [TRB]/[REST] text; code number 18 from third-party copies
}

# [RUN]: Splunk 10.4.3 and Cloud answer an unknown path with this body (404),
# and a wrong method on a known path with 405 and the same body.
NOT_FOUND_BODY = {"text": "The requested URL was not found on this server.", "code": 404}

EVENT_PATHS = {"/services/collector/event", "/services/collector/event/1.0",
               # [REST]: services/collector is the same JSON event endpoint.
               "/services/collector"}
ACK_PATHS = {"/services/collector/ack"}
HEALTH_PATHS = {"/services/collector/health", "/services/collector/health/1.0"}
STATS_PATH = "/_standin/stats"

# [FMT]: the envelope keys HEC knows.
ENVELOPE_KEYS = {"time", "host", "source", "sourcetype", "index", "event", "fields"}

# [ACK]: the channel is a client-generated GUID. Splunk's exact acceptance
# rules (braces, no hyphens, urn: prefix) are not documented: ASSUMED the
# canonical 8-4-4-4-12 hex form only, any case.
GUID_RE = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")

# [FMT] time is epoch seconds, "<sec>.<ms>"; a numeric string is accepted
# (splunk-library-javalogging#95 sends "time":"1545162035.942" and Splunk
# indexes it). ASSUMED: any other string is rejected with code 6 -- the
# docs do not say which code a non-numeric time gets.
NUMERIC_STRING_RE = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$")

FAULT_NAMES = ("busy", "throttle", "reset", "ack-never", "ack-false", "slow-ack",
               "unauthorized-after", "invalid-after")
CHAIN_FAULTS = ("reset", "busy", "throttle")


class HecError(Exception):
    """A per-request HEC rejection."""

    def __init__(self, code, event_number=None, truncate=False):
        super().__init__(code)
        self.code = code
        self.event_number = event_number
        # --partial-batches only: an unknown envelope key ends the batch
        # silently instead of rejecting it [RUN].
        self.truncate = truncate


def hec_body(code, **extra):
    body = {"text": HEC[code][1], "code": code}
    body.update(extra)
    return body


def _reject_constant(name):
    # json accepts NaN/Infinity by default; they are not JSON. ASSUMED code 6.
    raise ValueError("non-JSON constant " + name)


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_WS = " \t\r\n"


def _skip_ws(text, pos):
    n = len(text)
    while pos < n and text[pos] in _WS:
        pos += 1
    return pos


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _valid_field_value(v):
    # [FMT]: "fields" is a flat object of explicit index-time fields; a value
    # may be a string or an array of strings. Numbers/bools: ASSUMED accepted.
    # A nested object gives code 15 [RUN] (opentelemetry-collector-contrib
    # PR #18068 implements the same rule from the docs).
    if isinstance(v, (dict,)):
        return False
    if isinstance(v, list):
        return all(not isinstance(x, (dict, list)) for x in v)
    return True


def validate_envelope(obj, k, allowed_indexes, partial):
    """Raise HecError for envelope number k, or return False if it must be
    skipped (accepted but not indexed), True if it is indexed."""
    if not isinstance(obj, dict):
        # A JSON value that is not an object: ASSUMED code 6.
        raise HecError(6, k)
    unknown = set(obj) - ENVELOPE_KEYS
    if unknown:
        if partial:
            # [RUN]: an unknown key in object k>0 ends the batch with 200 and
            # only the objects before it indexed; in the only/first object it
            # gives 400 code 5 "No data".
            raise HecError(5 if k == 0 else 0, k, truncate=True)
        # Default: stricter than Splunk, reject with code 6 so a typo in the
        # sink's envelope is loud. ASSUMED code (Splunk does not reject).
        raise HecError(6, k)
    if "event" not in obj:
        if partial and "fields" in obj:
            # [RUN]: an object with "fields" and no "event" is answered 200
            # and skipped (treated as a metric).
            return False
        raise HecError(12, k)  # [TRB]/[RUN]
    if obj["event"] is None or obj["event"] == "":
        raise HecError(13, k)  # [TRB]; [ISSUE] fluent-plugin#19, kafka-connect-splunk#200
    if "time" in obj:
        t = obj["time"]
        if not (_is_number(t) or (isinstance(t, str) and NUMERIC_STRING_RE.match(t))):
            raise HecError(6, k)  # ASSUMED code 6 (see NUMERIC_STRING_RE)
    for key in ("host", "source", "sourcetype", "index"):
        if key in obj and not isinstance(obj[key], str):
            raise HecError(6, k)  # ASSUMED: [FMT] documents them as strings
    if "fields" in obj:
        f = obj["fields"]
        if not isinstance(f, dict):
            # Code 6: from a third-party HEC server's test written against a
            # local Splunk (fields_array_returns_invalid_data_format_code_6);
            # otherwise ASSUMED.
            raise HecError(6, k)
        if not all(_valid_field_value(v) for v in f.values()):
            raise HecError(15, k)
    if allowed_indexes is not None and "index" in obj and obj["index"] not in allowed_indexes:
        # [TRB] code 7. Note [RUN]: Splunk names the object AFTER the bad one
        # in invalid-event-number for code 7; not modelled, we name the bad one.
        raise HecError(7, k)
    return True


def parse_batch(text, allowed_indexes, partial):
    """Parse concatenated JSON envelopes [FMT].

    Returns (indexed, error): `indexed` holds the envelopes accepted before
    the first error (all of them if error is None)."""
    indexed = []
    pos = _skip_ws(text, 0)
    if pos == len(text):
        raise HecError(5)  # [TRB]; whitespace-only body: ASSUMED also "No data"
    k = 0
    while pos < len(text):
        try:
            obj, end = _DECODER.raw_decode(text, pos)
        except ValueError:
            # [ISSUE] moby#35862 and [RUN]: syntax error in object k ->
            # {"text":"Invalid data format","code":6,"invalid-event-number":k}
            return indexed, HecError(6, k)
        try:
            if validate_envelope(obj, k, allowed_indexes, partial):
                indexed.append(obj)
        except HecError as e:
            return indexed, e
        k += 1
        pos = _skip_ws(text, end)
    return indexed, None


# --------------------------------------------------------------------------
# Shared state
# --------------------------------------------------------------------------
class AckRecord:
    __slots__ = ("channel", "ack_id", "request", "events", "state")

    def __init__(self, channel, ack_id, request, events, state):
        self.channel = channel
        self.ack_id = ack_id
        self.request = request
        self.events = events
        self.state = state  # "pending" | "indexed" | "lost" | "read"


class State:
    def __init__(self, args):
        self.args = args
        self.token = args.token
        self.ack = args.ack
        self.partial = args.partial_batches
        self.read_once = args.ack_read_once
        self.allowed_indexes = set(args.allowed_index) if args.allowed_index else None
        self.lock = threading.RLock()
        self.store_lock = threading.Lock()
        self.store = open(args.store, "a", encoding="utf-8")
        self.log_lock = threading.Lock()

        # Faults.
        self.chain = []            # [[name, remaining]] in command-line order
        self.ack_never = 0
        self.ack_false = 0
        self.slow_ack = None
        self.unauthorized_after = None
        self.invalid_after = None
        for name, value in args.fault:
            if name in CHAIN_FAULTS:
                self.chain.append([name, int(value)])
            elif name == "ack-never":
                self.ack_never += int(value)
            elif name == "ack-false":
                self.ack_false += int(value)
            elif name == "slow-ack":
                self.slow_ack = float(value)
            elif name == "unauthorized-after":
                self.unauthorized_after = int(value)
            elif name == "invalid-after":
                self.invalid_after = int(value)
        self.ack_delay = self.slow_ack if self.slow_ack is not None else args.ack_delay
        self.retry_after = str(getattr(args, "retry_after", "1"))

        # Counters.
        self.event_requests = 0
        self.accepted_requests = 0
        self.indexed_events = 0
        self.ack_polls = 0
        self.rejected = {}
        self.max_body_bytes = 0
        self.max_wire_bytes = 0
        self.gzip_requests = 0
        self.lost_requests = 0
        self.health_checks = 0

        # Indexer acknowledgement: channel -> {"next": int, "acks": {id: AckRecord}}
        self.channels = {}
        self.heap = []   # (due, seq, AckRecord)
        self.seq = 0
        self.cond = threading.Condition(self.lock)
        self.stopping = False
        self.scheduler = threading.Thread(target=self._run_scheduler, name="ack-scheduler", daemon=True)
        self.scheduler.start()

    # -- logging ------------------------------------------------------------
    def log(self, line):
        with self.log_lock:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    # -- faults -------------------------------------------------------------
    def next_chain_fault(self):
        """Consume one unit of the first unexhausted reset/busy/throttle fault.
        Called with self.lock held, once per event request."""
        for entry in self.chain:
            if entry[1] > 0:
                entry[1] -= 1
                return entry[0]
        return None

    def busy_active(self):
        with self.lock:
            return any(name == "busy" and left > 0 for name, left in self.chain)

    def count_rejected(self, key):
        with self.lock:
            self.rejected[key] = self.rejected.get(key, 0) + 1

    # -- indexing -----------------------------------------------------------
    def write_events(self, channel, ack_id, request, events):
        if not events:
            return
        lines = "".join(
            json.dumps({"channel": channel, "ack_id": ack_id, "request": request, "envelope": e},
                       separators=(",", ":")) + "\n"
            for e in events)
        with self.store_lock:
            self.store.write(lines)
            self.store.flush()
        with self.lock:
            self.indexed_events += len(events)

    def new_ack(self, channel, request, events, lost):
        """Allocate the channel's next ackId [ACK] ([RUN]: ids count from 0 per
        channel) and schedule indexing after the ack delay."""
        with self.lock:
            ch = self.channels.setdefault(channel, {"next": 0, "acks": {}})
            ack_id = ch["next"]
            ch["next"] += 1
            rec = AckRecord(channel, ack_id, request, events, "lost" if lost else "pending")
            ch["acks"][ack_id] = rec
            if not lost:
                self.seq += 1
                heapq.heappush(self.heap, (time.monotonic() + self.ack_delay, self.seq, rec))
                self.cond.notify()
            return ack_id

    def _run_scheduler(self):
        while True:
            with self.lock:
                while not self.stopping and (not self.heap or self.heap[0][0] > time.monotonic()):
                    timeout = None if not self.heap else max(0.0, self.heap[0][0] - time.monotonic())
                    self.cond.wait(timeout)
                if self.stopping:
                    return
                _, _, rec = heapq.heappop(self.heap)
            # Index first, then flip the ack: a poll that sees true can
            # always find the events in the store.
            self.write_events(rec.channel, rec.ack_id, rec.request, rec.events)
            with self.lock:
                if rec.state == "pending":
                    rec.state = "indexed"
                rec.events = None

    def pending_acks(self):
        with self.lock:
            return len(self.heap)

    def stop(self):
        with self.lock:
            self.stopping = True
            self.cond.notify_all()
        self.scheduler.join(timeout=2)
        with self.store_lock:
            try:
                self.store.flush()
                self.store.close()
            except (OSError, ValueError):
                pass

    def stats(self):
        with self.lock:
            return {
                "event_requests": self.event_requests,
                "accepted_requests": self.accepted_requests,
                "indexed_events": self.indexed_events,
                "ack_polls": self.ack_polls,
                "rejected": dict(self.rejected),
                "max_body_bytes": self.max_body_bytes,
                "max_wire_bytes": self.max_wire_bytes,
                "gzip_requests": self.gzip_requests,
                # Extras (not in the brief's list):
                "pending_acks": len(self.heap),
                "lost_requests": self.lost_requests,
                "health_checks": self.health_checks,
            }


# --------------------------------------------------------------------------
# HTTP handler
# --------------------------------------------------------------------------
class BodyError(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hec-standin/1"
    sys_version = ""
    timeout = 60  # idle keep-alive connections are closed after this

    # -- connection setup (TLS is wrapped here, in the handler thread, so a
    # slow handshake does not block the accept loop) -------------------------
    def setup(self):
        ctx = self.server.ssl_context
        if ctx is not None:
            self.request.settimeout(self.timeout)
            self.request = ctx.wrap_socket(self.request, server_side=True)
        super().setup()

    def finish(self):
        try:
            super().finish()
        finally:
            if self.server.ssl_context is not None:
                try:
                    self.request.close()
                except OSError:
                    pass

    def version_string(self):
        return self.server_version

    @property
    def state(self):
        return self.server.state

    # -- logging --------------------------------------------------------------
    def log_request(self, code="-", size="-"):
        pass  # we log one line ourselves, with the HEC code

    def log_message(self, fmt, *args):
        self.state.log("%s %s" % (self.address_string(), fmt % args))

    def _log(self, status, code):
        self.state.log("%s %s %s code=%s" % (getattr(self, "command", None) or "-",
                                             getattr(self, "path", None) or "-", status, code))

    # -- responses --------------------------------------------------------------
    def _send_json(self, status, obj, headers=()):
        body = json.dumps(obj, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._log(status, obj.get("code", "-") if isinstance(obj, dict) else "-")

    def _send_hec(self, code, headers=(), status=None, **extra):
        self._send_json(status or HEC[code][0], hec_body(code, **extra), headers)

    def send_error(self, code, message=None, explain=None):
        # Protocol-level errors from BaseHTTPRequestHandler (bad request line,
        # unsupported method, ...) also get a JSON body.
        self.close_connection = True
        try:
            text = message or self.responses.get(code, ("Error",))[0]
            self._send_json(code, {"text": text, "code": code})
        except OSError:
            pass

    # -- body ----------------------------------------------------------------------
    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if te:
            if te.strip().lower() != "chunked":
                raise BodyError("unsupported Transfer-Encoding")
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise BodyError("eof in chunked body")
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise BodyError("bad chunk size")
                if size == 0:
                    while True:  # trailers
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    return b"".join(chunks)
                data = self.rfile.read(size)
                if len(data) != size:
                    raise BodyError("short chunk")
                chunks.append(data)
                self.rfile.readline(3)
        cl = self.headers.get("Content-Length")
        if cl is None:
            return b""
        try:
            n = int(cl)
            if n < 0:
                raise ValueError
        except ValueError:
            raise BodyError("bad Content-Length")
        data = self.rfile.read(n)
        if len(data) != n:
            raise BodyError("short body")
        return data

    def _decode_body(self, raw):
        """Returns the decompressed bytes, or raises HecError / sends 415."""
        enc = (self.headers.get("Content-Encoding") or "").strip().lower()
        if enc in ("", "identity"):
            return raw, False
        if enc == "gzip":  # [RUN]: gzip bodies are accepted (also siem-delivery.md s.2)
            try:
                return gzip.decompress(raw), True
            except (OSError, EOFError, zlib.error):
                raise HecError(6)  # ASSUMED: corrupt gzip -> code 6
        # [RUN]: Splunk answers "deflate" (and presumably any other coding)
        # with 415 and an HTML body; we send JSON.
        raise UnsupportedEncoding(enc)

    # -- auth and channel --------------------------------------------------------
    def _query(self):
        return parse_qs(urlsplit(self.path).query)

    def _check_auth(self):
        """Return an HEC error code, or None if authorised."""
        auth = self.headers.get("Authorization")
        if auth is None:
            if "token" in self._query():
                # [FMT]: query-string auth exists but is off by default;
                # [TRB] code 16. The stand-in never enables it.
                return 16
            return 2  # [TRB] "Token is required"
        parts = auth.strip().split(None, 1)
        # [FMT] "Authorization: Splunk <hec_token>". The scheme is matched
        # case-insensitively (RFC 9110); Basic auth is not modelled and is
        # answered as malformed.
        if len(parts) != 2 or parts[0].lower() != "splunk" or not parts[1].strip():
            return 3  # [TRB] "Invalid authorization"
        if parts[1].strip() != self.state.token:
            return 4  # [TRB] "Invalid token" (403)
        return None

    def _channel(self):
        """[ACK]: channel from X-Splunk-Request-Channel, or ?channel=.
        Returns (channel, error_code)."""
        ch = self.headers.get("X-Splunk-Request-Channel")
        if ch is None:
            q = self._query().get("channel")
            ch = q[0] if q else None
        if ch is None or ch == "":
            return None, 10
        if not GUID_RE.match(ch.strip()):
            return None, 11
        return ch.strip(), None

    # -- routing ---------------------------------------------------------------
    def _route(self):
        return urlsplit(self.path).path.rstrip("/") or "/"

    def _consume_body_quietly(self):
        try:
            self._read_body()
        except (BodyError, OSError):
            self.close_connection = True

    def do_GET(self):
        path = self._route()
        if path in HEALTH_PATHS:
            with self.state.lock:
                self.state.health_checks += 1
            # [REST]/[TRB]: 200 code 17, 503 code 18 while queues are full
            # (modelled as "a busy fault is still active"). Auth is not
            # checked ([RUN]: Cloud answered 200 without a token).
            if self.state.busy_active():
                self._send_hec(18)
            else:
                self._send_hec(17)
        elif path == STATS_PATH:
            self._send_json(200, self.state.stats())
        elif path in EVENT_PATHS or path in ACK_PATHS:
            self._send_json(405, NOT_FOUND_BODY, [("Allow", "POST,OPTIONS")])  # [RUN]
        else:
            self._send_json(404, NOT_FOUND_BODY)  # [RUN]

    def do_HEAD(self):
        self.do_GET()

    def do_OPTIONS(self):
        # [RUN]: every HEC route answers OPTIONS 200 with an empty body.
        self._consume_body_quietly()
        path = self._route()
        if path in HEALTH_PATHS:
            allow = "GET,HEAD,OPTIONS"
        elif path in EVENT_PATHS or path in ACK_PATHS:
            allow = "POST,OPTIONS"
        else:
            self._send_json(404, NOT_FOUND_BODY)
            return
        self.send_response(200)
        self.send_header("Allow", allow)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self._log(200, "-")

    def do_POST(self):
        path = self._route()
        if path in EVENT_PATHS:
            self._handle_event()
        elif path in ACK_PATHS:
            self._handle_ack()
        else:
            self._consume_body_quietly()
            if path in HEALTH_PATHS or path == STATS_PATH:
                self._send_json(405, NOT_FOUND_BODY, [("Allow", "GET,HEAD,OPTIONS")])
            else:
                self._send_json(404, NOT_FOUND_BODY)

    def do_PUT(self):
        self._other_method()

    def do_DELETE(self):
        self._other_method()

    def do_PATCH(self):
        self._other_method()

    def _other_method(self):
        self._consume_body_quietly()
        path = self._route()
        if path in EVENT_PATHS or path in ACK_PATHS or path in HEALTH_PATHS:
            self._send_json(405, NOT_FOUND_BODY)
        else:
            self._send_json(404, NOT_FOUND_BODY)

    # -- the reset fault --------------------------------------------------------
    def _reset(self):
        """Close the TCP connection with SO_LINGER 0: the kernel sends RST and
        the client sees a connection reset, no response at all."""
        self.close_connection = True
        self._log("RST", "-")
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        # rfile holds a reference to the socket (makefile); drop it first so
        # close() really closes the descriptor.
        try:
            self.rfile.close()
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass

    # -- POST /services/collector/event -------------------------------------------
    def _handle_event(self):
        st = self.state
        try:
            raw = self._read_body()
        except (BodyError, OSError) as e:
            # Broken HTTP framing: counted, but consumes no fault.
            with st.lock:
                st.event_requests += 1
            st.count_rejected("400")
            self.close_connection = True
            self._send_json(400, {"text": "Bad request body: %s" % e, "code": 6})
            return

        with st.lock:
            st.event_requests += 1
            request_no = st.event_requests
            st.max_wire_bytes = max(st.max_wire_bytes, len(raw))
            fault = st.next_chain_fault()
            accepted_so_far = st.accepted_requests

        # Faults apply before normal processing.
        if fault == "reset":
            st.count_rejected("reset")
            self._reset()
            return
        if fault == "busy":
            # [TRB] 503 code 9. Retry-After: ASSUMED (Splunk's docs do not
            # say HEC sends it).
            return self._reject(9, headers=[("Retry-After", st.retry_after)])
        if fault == "throttle":
            # ASSUMED: Splunk's HEC docs list no 429; some deployments (and
            # load balancers in front of HEC) send it. Body reuses code 9.
            return self._reject(9, status=429, headers=[("Retry-After", st.retry_after)])
        if st.unauthorized_after is not None and accepted_so_far >= st.unauthorized_after:
            return self._reject(3)
        if st.invalid_after is not None and accepted_so_far >= st.invalid_after:
            return self._reject(6, **{"invalid-event-number": 0})

        err = self._check_auth()
        if err is not None:
            return self._reject(err)

        channel = None
        if st.ack:
            channel, err = self._channel()
            if err is not None:
                return self._reject(err)
        # Without --ack a channel header is accepted and ignored ([RUN]: a
        # token without useACK does not need one).

        try:
            body, gz = self._decode_body(raw)
        except UnsupportedEncoding:
            st.count_rejected("415")
            self._send_json(415, {"text": "Unsupported Media Type", "code": 415})
            return
        except HecError as e:
            return self._reject(e.code, **({"invalid-event-number": 0} if e.code == 6 else {}))
        with st.lock:
            st.max_body_bytes = max(st.max_body_bytes, len(body))
            if gz:
                st.gzip_requests += 1

        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return self._reject(6, **{"invalid-event-number": 0})  # ASSUMED

        try:
            indexed, error = parse_batch(text, st.allowed_indexes, st.partial)
        except HecError as e:  # "No data"
            return self._reject(e.code)

        if error is None or (st.partial and error.truncate and error.code == 0):
            # Success (with --partial-batches an unknown key in object k>0
            # also answers 200, with only the objects before it indexed [RUN]).
            self._accept(request_no, channel, indexed)
            return

        extra = {}
        if error.event_number is not None and error.code != 5:
            # [ISSUE]/[RUN]: per-object errors name the object.
            extra["invalid-event-number"] = error.event_number
        if st.partial and indexed:
            # [ISSUE] moby#35862, [RUN]: the objects before the bad one ARE
            # indexed. kafka-connect-splunk#200 shows such a 400 carrying an
            # ackId on an ack token.
            if st.ack:
                extra["ackId"] = st.new_ack(channel, request_no, indexed, lost=False)
            else:
                st.write_events(None, None, request_no, indexed)
        self._reject(error.code, **extra)

    def _reject(self, code, headers=(), status=None, **extra):
        status = status or HEC[code][0]
        self.state.count_rejected(str(status))
        self._send_hec(code, headers=headers, status=status, **extra)

    def _accept(self, request_no, channel, events):
        st = self.state
        with st.lock:
            st.accepted_requests += 1
            lost = st.ack_never > 0
            if lost:
                st.ack_never -= 1
                st.lost_requests += 1
        if st.ack:
            ack_id = st.new_ack(channel, request_no, events, lost)
            self._send_hec(0, ackId=ack_id)  # [ACK]: {"text":"Success","code":0,"ackId":N}
        else:
            if not lost:
                st.write_events(None, None, request_no, events)
            self._send_hec(0)  # [FMT] {"text":"Success","code":0}

    # -- POST /services/collector/ack -----------------------------------------------
    def _handle_ack(self):
        st = self.state
        try:
            raw = self._read_body()
        except (BodyError, OSError) as e:
            self.close_connection = True
            self._send_json(400, {"text": "Bad request body: %s" % e, "code": 6})
            return
        with st.lock:
            st.ack_polls += 1

        err = self._check_auth()
        if err is not None:
            return self._send_hec(err)
        if not st.ack:
            return self._send_hec(14)  # [TRB] "ACK is disabled"
        channel, err = self._channel()
        if err is not None:
            return self._send_hec(err)
        try:
            body, _ = self._decode_body(raw)
            req = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
            if not isinstance(req, dict) or not isinstance(req.get("acks"), list):
                raise ValueError
            ids = req["acks"]
            for i in ids:
                if not isinstance(i, int) or isinstance(i, bool) or i < 0:
                    raise ValueError
        except UnsupportedEncoding:
            return self._send_json(415, {"text": "Unsupported Media Type", "code": 415})
        except (HecError, ValueError, KeyError, TypeError, UnicodeDecodeError):
            return self._send_hec(6)  # ASSUMED: malformed ack query -> code 6

        result = {}
        with st.lock:
            force_false = st.ack_false > 0
            if force_false:
                st.ack_false -= 1
            acks = st.channels.get(channel, {}).get("acks", {})
            for i in ids:
                rec = acks.get(i)
                ok = (not force_false) and rec is not None and rec.state == "indexed"
                result[str(i)] = ok
                if ok and st.read_once:
                    # [ACK] as quoted by a third party that also observed it
                    # on Splunk 9.3.3: "Once a client retrieves a true status
                    # for an ackID, HEC deletes that ackID status information.
                    # If you query the same ackID again, HEC will always
                    # return false." Opt-in here (--ack-read-once).
                    rec.state = "read"
        # [ACK]: {"acks":{"0":true,"1":false}}; unknown ids are false
        # ([RUN]: an id polled on another channel answers false).
        self._send_json(200, {"acks": result})


class UnsupportedEncoding(Exception):
    pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, state, ssl_context):
        self.state = state
        self.ssl_context = ssl_context
        super().__init__(addr, Handler)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        self.state.log("connection error from %s: %s: %s" % (client_address, type(exc).__name__, exc))


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------
def parse_fault(spec):
    name, sep, value = spec.partition(":")
    if not sep or name not in FAULT_NAMES:
        raise argparse.ArgumentTypeError(
            "fault must be NAME:COUNT with NAME one of %s" % ", ".join(FAULT_NAMES))
    try:
        v = float(value) if name == "slow-ack" else int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("bad COUNT in %r" % spec)
    if v < 0:
        raise argparse.ArgumentTypeError("COUNT must be >= 0 in %r" % spec)
    return name, v


def main(argv=None):
    p = argparse.ArgumentParser(description="Splunk HEC stand-in (see README.md)")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1; 0 picks a free one")
    p.add_argument("--token", required=True, help="the HEC token clients must send")
    p.add_argument("--store", required=True, help="JSON-lines file the indexed events are appended to")
    p.add_argument("--ack", action="store_true", help="token has indexer acknowledgement (useACK)")
    p.add_argument("--ack-delay", type=float, default=0.2, help="seconds until an ack turns true (default 0.2)")
    p.add_argument("--fault", type=parse_fault, action="append", default=[], metavar="NAME:COUNT",
                   help="inject a fault; repeatable: " + ", ".join(FAULT_NAMES))
    p.add_argument("--retry-after", default="1", metavar="SECONDS",
                   help="the Retry-After value the busy and throttle faults send (default 1)")
    p.add_argument("--tls-cert", help="PEM certificate (chain) for HTTPS")
    p.add_argument("--tls-key", help="PEM private key for HTTPS")
    # Extensions beyond the brief:
    p.add_argument("--partial-batches", action="store_true",
                   help="Splunk's observed batch semantics: objects before the first bad one are indexed")
    p.add_argument("--ack-read-once", action="store_true",
                   help="an ackId reported true once is forgotten (later polls answer false), as Splunk documents")
    p.add_argument("--allowed-index", action="append", default=[], metavar="NAME",
                   help="restrict the envelope's index to these (code 7 otherwise); repeatable")
    args = p.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")

    ctx = None
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)

    state = State(args)
    server = Server(("127.0.0.1", args.port), state, ctx)
    port = server.server_address[1]

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                         name="serve", daemon=True)
    t.start()
    state.log("hec-standin listening on 127.0.0.1:%d (%s, ack=%s, faults=%s)"
              % (port, "https" if ctx else "http", args.ack,
                 ",".join("%s:%s" % f for f in args.fault) or "none"))
    sys.stdout.write("READY %d\n" % port)
    sys.stdout.flush()

    while not stop.wait(0.2):
        pass
    server.shutdown()
    server.server_close()
    state.stop()
    state.log("hec-standin stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
