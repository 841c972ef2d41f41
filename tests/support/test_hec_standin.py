"""Self-test for hec_standin.py (stdlib only).

Run from the repository root:
    python3 -m unittest tests/support/test_hec_standin.py -v
"""

import gzip
import http.client
import json
import os
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "hec_standin.py")
TOKEN = "00000000-1111-2222-3333-444444444444"
CH1 = "11111111-2222-3333-4444-555555555555"
CH2 = "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE"
AUTH = {"Authorization": "Splunk " + TOKEN}


class StandIn:
    """One stand-in process: started with `args`, stopped with SIGTERM."""

    def __init__(self, *args, tls=None):
        self.dir = tempfile.mkdtemp(prefix="hec-standin-test-")
        self.store = os.path.join(self.dir, "store.jsonl")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.tls = tls
        cmd = [sys.executable, SCRIPT, "--port", "0", "--token", TOKEN, "--store", self.store]
        if tls:
            cmd += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        cmd += list(args)
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.stderr)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        if not ready:
            self.proc.kill()
            raise RuntimeError("stand-in did not print READY: " + self.log())
        line = self.proc.stdout.readline().decode()
        if not line.startswith("READY "):
            self.proc.kill()
            raise RuntimeError("unexpected first line %r: %s" % (line, self.log()))
        self.ready_line = line
        self.port = int(line.split()[1])

    def log(self):
        self.stderr.flush()
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def conn(self, timeout=5):
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.tls[0])
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None):
        own = conn is None
        c = conn or self.conn()
        try:
            if isinstance(body, str):
                body = body.encode()
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            raw = r.read()
            parsed = json.loads(raw) if raw else None
            return r.status, r, parsed
        finally:
            if own:
                c.close()

    def post_event(self, body, headers=None, path="/services/collector/event", **kw):
        h = dict(AUTH)
        h.update(headers or {})
        return self.request("POST", path, body, h, **kw)

    def poll(self, ids, channel=CH1, headers=None, **kw):
        h = dict(AUTH)
        h["X-Splunk-Request-Channel"] = channel
        h.update(headers or {})
        return self.request("POST", "/services/collector/ack", json.dumps({"acks": ids}), h, **kw)

    def stats(self):
        return self.request("GET", "/_standin/stats")[2]

    def stored(self):
        if not os.path.exists(self.store):
            return []
        with open(self.store, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        log = self.log()
        self.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        if "Traceback" in log:
            raise AssertionError("the stand-in logged a traceback:\n" + log)
        return self.proc.returncode


def wait_for(pred, timeout=5.0, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


class Base(unittest.TestCase):
    ARGS = ()

    def setUp(self):
        self.s = StandIn(*self.ARGS)

    def tearDown(self):
        self.s.stop()

    def assertHec(self, resp, status, code, text=None, **extra):
        st, r, body = resp
        self.assertEqual(st, status, body)
        self.assertEqual(body["code"], code, body)
        if text is not None:
            self.assertEqual(body["text"], text)
        for k, v in extra.items():
            self.assertEqual(body.get(k.replace("_", "-") if k == "invalid_event_number" else k), v, body)
        self.assertTrue(r.getheader("Content-Type").startswith("application/json"))
        self.assertIsNotNone(r.getheader("Content-Length"))


# ---------------------------------------------------------------------------
class TestStartup(unittest.TestCase):
    def test_ready_line_and_sigterm(self):
        s = StandIn()
        self.assertRegex(s.ready_line, r"^READY [0-9]+\n$")
        self.assertGreater(s.port, 0)
        # stdout carries exactly one line: nothing else is pending on it.
        ready, _, _ = select.select([s.proc.stdout], [], [], 0.2)
        self.assertEqual(ready, [])
        self.assertEqual(s.stop(), 0)

    def test_listens_on_loopback_only(self):
        s = StandIn()
        try:
            out = subprocess.run(["ss", "-ltnH", "sport = :%d" % s.port],
                                 capture_output=True, text=True) if shutil.which("ss") else None
            if out is not None and out.stdout.strip():
                self.assertIn("127.0.0.1:%d" % s.port, out.stdout)
        finally:
            s.stop()

    def test_bad_fault_is_a_usage_error(self):
        r = subprocess.run([sys.executable, SCRIPT, "--token", "t", "--store", os.devnull,
                            "--fault", "nonsense:1"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")


# ---------------------------------------------------------------------------
class TestAuth(Base):
    def test_missing_token(self):
        self.assertHec(self.s.request("POST", "/services/collector/event", '{"event":"x"}'),
                       401, 2, "Token is required")

    def test_malformed_authorization(self):
        for value in ("Bearer " + TOKEN, "Splunk", "Splunk   ", TOKEN, "Basic Zm9vOmJhcg=="):
            with self.subTest(value=value):
                self.assertHec(self.s.request("POST", "/services/collector/event", '{"event":"x"}',
                                              {"Authorization": value}),
                               401, 3, "Invalid authorization")

    def test_wrong_token(self):
        self.assertHec(self.s.request("POST", "/services/collector/event", '{"event":"x"}',
                                      {"Authorization": "Splunk nope"}),
                       403, 4, "Invalid token")

    def test_scheme_is_case_insensitive(self):
        self.assertHec(self.s.request("POST", "/services/collector/event", '{"event":"x"}',
                                      {"Authorization": "splunk " + TOKEN}), 200, 0)

    def test_query_string_token_is_not_enabled(self):
        self.assertHec(self.s.request("POST", "/services/collector/event?token=" + TOKEN, '{"event":"x"}'),
                       400, 16, "Query string authorization is not enabled")

    def test_rejections_are_counted_by_status(self):
        self.s.request("POST", "/services/collector/event", '{"event":"x"}')
        self.s.post_event('{"event":"x"}', {"Authorization": "Splunk nope"})
        self.s.post_event('{"event":"x"}', {"Authorization": "Splunk nope"})
        st = self.s.stats()
        self.assertEqual(st["rejected"], {"401": 1, "403": 2})
        self.assertEqual(st["event_requests"], 3)
        self.assertEqual(st["accepted_requests"], 0)
        self.assertEqual(self.s.stored(), [])


# ---------------------------------------------------------------------------
class TestEvents(Base):
    def test_success_and_store(self):
        body = ('{"time": 1700000000.123, "host": "h", "source": "s", "sourcetype": "st", '
                '"index": "main", "event": {"a": 1}, "fields": {"f": "v", "g": ["x", "y"]}}\n'
                '  {"event":"second"}\r\n\t{"event":"third","time":"1700000001"}')
        resp = self.s.post_event(body)
        self.assertHec(resp, 200, 0, "Success")
        self.assertEqual(resp[2], {"text": "Success", "code": 0})
        rows = self.s.stored()
        self.assertEqual(len(rows), 3)
        self.assertEqual(rows[0]["envelope"]["event"], {"a": 1})
        self.assertEqual(rows[0]["envelope"]["time"], 1700000000.123)
        self.assertEqual(rows[2]["envelope"]["time"], "1700000001")
        for r in rows:
            self.assertEqual(r["request"], 1)
            self.assertIsNone(r["channel"])
            self.assertIsNone(r["ack_id"])
        st = self.s.stats()
        self.assertEqual((st["event_requests"], st["accepted_requests"], st["indexed_events"]), (1, 1, 3))

    def test_back_to_back_objects_without_whitespace(self):
        self.assertHec(self.s.post_event('{"event":"a"}{"event":"b"}'), 200, 0)
        self.assertEqual([r["envelope"]["event"] for r in self.s.stored()], ["a", "b"])

    def test_event_1_0_and_collector_paths(self):
        self.assertHec(self.s.post_event('{"event":"a"}', path="/services/collector/event/1.0"), 200, 0)
        self.assertHec(self.s.post_event('{"event":"b"}', path="/services/collector"), 200, 0)
        self.assertEqual([r["request"] for r in self.s.stored()], [1, 2])

    def test_no_data(self):
        self.assertHec(self.s.post_event(""), 400, 5, "No data")
        self.assertHec(self.s.post_event(" \n\t "), 400, 5, "No data")
        self.assertNotIn("invalid-event-number", self.s.post_event("")[2])

    def test_unparsable(self):
        self.assertHec(self.s.post_event("{not json"), 400, 6, "Invalid data format", invalid_event_number=0)
        self.assertHec(self.s.post_event('{"event":"ok"} {"event": }'), 400, 6, invalid_event_number=1)
        self.assertHec(self.s.post_event('[{"event":"x"}]'), 400, 6, invalid_event_number=0)
        self.assertHec(self.s.post_event('{"event":"x"} 42'), 400, 6, invalid_event_number=1)
        self.assertHec(self.s.post_event('{"event": NaN}'), 400, 6)
        self.assertHec(self.s.post_event(b'{"event":"\xff"}'), 400, 6)
        self.assertEqual(self.s.stored(), [], "the whole request is rejected")

    def test_event_required(self):
        self.assertHec(self.s.post_event('{"event":"a"}\n{"time": 1}'), 400, 12, "Event field is required",
                       invalid_event_number=1)
        self.assertHec(self.s.post_event('{"fields": {"a": "b"}}'), 400, 12)
        self.assertEqual(self.s.stored(), [])

    def test_event_blank(self):
        self.assertHec(self.s.post_event('{"event":""}'), 400, 13, "Event field cannot be blank",
                       invalid_event_number=0)
        self.assertHec(self.s.post_event('{"event":"a"}{"event":"b"}{"event":null}'), 400, 13,
                       invalid_event_number=2)
        self.assertEqual(self.s.stored(), [])

    def test_time(self):
        for bad in ('"yesterday"', "true", "{}", "[1]", '""'):
            with self.subTest(time=bad):
                self.assertHec(self.s.post_event('{"event":"a","time":%s}' % bad), 400, 6,
                               invalid_event_number=0)
        for good in ("1700000000", "1700000000.5", '"1700000000.250"', "0"):
            with self.subTest(time=good):
                self.assertHec(self.s.post_event('{"event":"a","time":%s}' % good), 200, 0)

    def test_unknown_key_and_types(self):
        self.assertHec(self.s.post_event('{"event":"a","sourceType":"x"}'), 400, 6, invalid_event_number=0)
        self.assertHec(self.s.post_event('{"event":"a","host":5}'), 400, 6)
        self.assertHec(self.s.post_event('{"event":"a","fields":[1]}'), 400, 6)
        self.assertHec(self.s.post_event('{"event":"a","fields":{"n":{"x":1}}}'), 400, 15,
                       "Error in handling indexed fields", invalid_event_number=0)
        self.assertHec(self.s.post_event('{"event":"a","fields":{"n":[{"x":1}]}}'), 400, 15)

    def test_channel_header_ignored_without_ack(self):
        resp = self.s.post_event('{"event":"a"}', {"X-Splunk-Request-Channel": "not-a-guid"})
        self.assertHec(resp, 200, 0)
        self.assertNotIn("ackId", resp[2])

    def test_ack_endpoint_without_ack_is_disabled(self):
        self.assertHec(self.s.poll([0]), 400, 14, "ACK is disabled")

    def test_keep_alive(self):
        c = self.s.conn()
        try:
            for i in range(5):
                st, r, body = self.s.post_event('{"event":%d}' % i, conn=c)
                self.assertEqual(st, 200)
                self.assertFalse(r.will_close)
            # an error response keeps the connection too
            st, r, _ = self.s.post_event("", conn=c)
            self.assertEqual(st, 400)
            st, _, _ = self.s.post_event('{"event":"after"}', conn=c)
            self.assertEqual(st, 200)
        finally:
            c.close()
        self.assertEqual(len(self.s.stored()), 6)

    def test_chunked_request_body(self):
        c = self.s.conn()
        try:
            c.putrequest("POST", "/services/collector/event")
            c.putheader("Authorization", AUTH["Authorization"])
            c.putheader("Transfer-Encoding", "chunked")
            c.endheaders()
            for part in (b'{"event":', b'"chunked"}'):
                c.send(b"%x\r\n%s\r\n" % (len(part), part))
            c.send(b"0\r\n\r\n")
            r = c.getresponse()
            self.assertEqual(r.status, 200, r.read())
        finally:
            c.close()
        self.assertEqual(self.s.stored()[0]["envelope"]["event"], "chunked")


class TestAllowedIndex(Base):
    ARGS = ("--allowed-index", "audit")

    def test_incorrect_index(self):
        self.assertHec(self.s.post_event('{"event":"a","index":"audit"}'), 200, 0)
        self.assertHec(self.s.post_event('{"event":"a"}'), 200, 0)
        self.assertHec(self.s.post_event('{"event":"a","index":"audit"}{"event":"b","index":"main"}'),
                       400, 7, "Incorrect index", invalid_event_number=1)


# ---------------------------------------------------------------------------
class TestGzip(Base):
    def test_gzip(self):
        plain = ("\n".join('{"event":{"n":%d,"pad":"%s"}}' % (i, "x" * 200) for i in range(50))).encode()
        wire = gzip.compress(plain)
        self.assertHec(self.s.post_event(wire, {"Content-Encoding": "gzip"}), 200, 0)
        self.assertHec(self.s.post_event(b'{"event":"small"}'), 200, 0)
        st = self.s.stats()
        self.assertEqual(st["gzip_requests"], 1)
        self.assertEqual(st["max_body_bytes"], len(plain))
        self.assertEqual(st["max_wire_bytes"], len(wire))
        self.assertLess(len(wire), len(plain))
        self.assertEqual(st["indexed_events"], 51)

    def test_bad_gzip_and_other_encodings(self):
        self.assertHec(self.s.post_event(b"not gzip", {"Content-Encoding": "gzip"}), 400, 6)
        st, r, body = self.s.post_event(zlib.compress(b'{"event":"x"}'), {"Content-Encoding": "deflate"})
        self.assertEqual(st, 415)
        self.assertTrue(r.getheader("Content-Type").startswith("application/json"))
        self.assertEqual(self.s.stats()["rejected"], {"400": 1, "415": 1})

    def test_gzip_ack_poll(self):
        s = StandIn("--ack", "--ack-delay", "0")
        try:
            s.post_event('{"event":"x"}', {"X-Splunk-Request-Channel": CH1})
            wait_for(lambda: s.stats()["indexed_events"] == 1)
            h = dict(AUTH, **{"X-Splunk-Request-Channel": CH1, "Content-Encoding": "gzip"})
            st, _, body = s.request("POST", "/services/collector/ack", gzip.compress(b'{"acks":[0]}'), h)
            self.assertEqual((st, body), (200, {"acks": {"0": True}}))
        finally:
            s.stop()


# ---------------------------------------------------------------------------
class TestAck(Base):
    ARGS = ("--ack", "--ack-delay", "0.3")

    def test_channel_missing_and_invalid(self):
        self.assertHec(self.s.post_event('{"event":"a"}'), 400, 10, "Data channel is missing")
        self.assertHec(self.s.post_event('{"event":"a"}', {"X-Splunk-Request-Channel": "abc"}), 400, 11,
                       "Invalid data channel")
        self.assertHec(self.s.post_event('{"event":"a"}', {"X-Splunk-Request-Channel": CH1[:-1]}), 400, 11)
        self.assertHec(self.s.request("POST", "/services/collector/ack", '{"acks":[0]}', AUTH), 400, 10)
        self.assertHec(self.s.poll([0], channel="nope"), 400, 11)

    def test_auth_checked_before_channel(self):
        self.assertHec(self.s.request("POST", "/services/collector/event", '{"event":"a"}'), 401, 2)
        self.assertHec(self.s.request("POST", "/services/collector/ack", '{"acks":[0]}'), 401, 2)

    def test_ack_flow(self):
        t0 = time.monotonic()
        ids = []
        for i in range(3):
            resp = self.s.post_event('{"event":%d}' % i, {"X-Splunk-Request-Channel": CH1})
            self.assertHec(resp, 200, 0, "Success")
            ids.append(resp[2]["ackId"])
        self.assertEqual(ids, [0, 1, 2])
        # another channel counts from 0, via the query string this time
        resp = self.s.post_event('{"event":"c2"}', path="/services/collector/event?channel=" + CH2)
        self.assertEqual(resp[2]["ackId"], 0)
        # not yet indexed
        st, _, body = self.s.poll([0, 1, 2, 99])
        self.assertEqual(st, 200)
        if time.monotonic() - t0 < 0.25:
            self.assertEqual(body, {"acks": {"0": False, "1": False, "2": False, "99": False}})
            self.assertEqual(self.s.stored(), [])
        # after the delay
        self.assertTrue(wait_for(lambda: self.s.poll([0, 1, 2])[2]["acks"] ==
                                 {"0": True, "1": True, "2": True}))
        # sticky by default: true again
        self.assertEqual(self.s.poll([0, 1, 2, 99])[2]["acks"],
                         {"0": True, "1": True, "2": True, "99": False})
        # ackId 1 of CH1 is not ackId 1 of CH2
        self.assertEqual(self.s.poll([0, 1], channel=CH2)[2]["acks"], {"0": True, "1": False})
        # ?channel= on the ack endpoint
        h = dict(AUTH)
        st, _, body = self.s.request("POST", "/services/collector/ack?channel=" + CH2, '{"acks":[0]}', h)
        self.assertEqual(body, {"acks": {"0": True}})
        rows = self.s.stored()
        self.assertEqual(len(rows), 4)
        r0 = [r for r in rows if r["channel"] == CH1 and r["ack_id"] == 1][0]
        self.assertEqual(r0["envelope"], {"event": 1})
        self.assertEqual(r0["request"], 2)
        st = self.s.stats()
        self.assertEqual(st["indexed_events"], 4)
        self.assertGreaterEqual(st["ack_polls"], 5)
        self.assertEqual(st["pending_acks"], 0)

    def test_malformed_ack_query(self):
        h = dict(AUTH, **{"X-Splunk-Request-Channel": CH1})
        for body in ("", "{", '{"acks":"0"}', '{"acks":[-1]}', '{"acks":["0"]}', '{"acks":[true]}',
                     '{"nope":[0]}', "[0]", '{"acks":[1.5]}'):
            with self.subTest(body=body):
                self.assertHec(self.s.request("POST", "/services/collector/ack", body, h), 400, 6)
        self.assertEqual(self.s.poll([])[2], {"acks": {}})

    def test_rejected_request_gets_no_ack(self):
        resp = self.s.post_event('{"event":""}', {"X-Splunk-Request-Channel": CH1})
        self.assertHec(resp, 400, 13)
        self.assertNotIn("ackId", resp[2])
        resp = self.s.post_event('{"event":"a"}', {"X-Splunk-Request-Channel": CH1})
        self.assertEqual(resp[2]["ackId"], 0)


class TestAckReadOnce(Base):
    ARGS = ("--ack", "--ack-delay", "0", "--ack-read-once")

    def test_true_is_reported_once(self):
        self.s.post_event('{"event":"a"}', {"X-Splunk-Request-Channel": CH1})
        self.assertTrue(wait_for(lambda: self.s.poll([0])[2]["acks"]["0"]))
        self.assertEqual(self.s.poll([0])[2], {"acks": {"0": False}})
        self.assertEqual(len(self.s.stored()), 1)


# ---------------------------------------------------------------------------
class TestPartialBatches(Base):
    ARGS = ("--partial-batches",)

    def test_prefix_indexed(self):
        self.assertHec(self.s.post_event('{"event":"a"}{"event":"b"}{"event":""}{"event":"d"}'),
                       400, 13, invalid_event_number=2)
        self.assertEqual([r["envelope"]["event"] for r in self.s.stored()], ["a", "b"])
        self.assertHec(self.s.post_event('{"event":"e"} {oops'), 400, 6, invalid_event_number=1)
        self.assertEqual(len(self.s.stored()), 3)
        self.assertEqual(self.s.stats()["accepted_requests"], 0)

    def test_unknown_key_truncates(self):
        resp = self.s.post_event('{"event":"a"}{"event":"b","bogus":1}{"event":"c"}')
        self.assertHec(resp, 200, 0)
        self.assertEqual([r["envelope"]["event"] for r in self.s.stored()], ["a"])
        resp = self.s.post_event('{"event":"z","bogus":1}')
        self.assertHec(resp, 400, 5, "No data")
        self.assertNotIn("invalid-event-number", resp[2])

    def test_fields_only_is_skipped(self):
        self.assertHec(self.s.post_event('{"event":"a"}{"fields":{"m":"1"}}{"event":"c"}'), 200, 0)
        self.assertEqual([r["envelope"]["event"] for r in self.s.stored()], ["a", "c"])
        self.assertHec(self.s.post_event('{"time":1}'), 400, 12)

    def test_prefix_with_ack(self):
        s = StandIn("--partial-batches", "--ack", "--ack-delay", "0")
        try:
            resp = s.post_event('{"event":"a"}{"event":null}', {"X-Splunk-Request-Channel": CH1})
            self.assertHec(resp, 400, 13, invalid_event_number=1, ackId=0)
            self.assertTrue(wait_for(lambda: s.poll([0])[2]["acks"]["0"]))
            self.assertEqual([r["ack_id"] for r in s.stored()], [0])
            resp = s.post_event('{"event":null}', {"X-Splunk-Request-Channel": CH1})
            self.assertNotIn("ackId", resp[2])
        finally:
            s.stop()


# ---------------------------------------------------------------------------
class TestHealthAndRoutes(Base):
    ARGS = ("--fault", "busy:2")

    def test_health_follows_busy(self):
        for path in ("/services/collector/health", "/services/collector/health/1.0"):
            self.assertHec(self.s.request("GET", path), 503, 18, "HEC is unhealthy, queues are full")
        self.assertHec(self.s.post_event('{"event":"a"}'), 503, 9, "Server is busy")
        self.assertHec(self.s.request("GET", "/services/collector/health"), 503, 18)
        st, r, _ = self.s.post_event('{"event":"a"}')
        self.assertEqual(st, 503)
        self.assertEqual(r.getheader("Retry-After"), "1")
        for path in ("/services/collector/health", "/services/collector/health/1.0"):
            self.assertHec(self.s.request("GET", path), 200, 17, "HEC is healthy")
        self.assertHec(self.s.post_event('{"event":"a"}'), 200, 0)
        st = self.s.stats()
        self.assertEqual(st["rejected"], {"503": 2})
        self.assertEqual(st["health_checks"], 5)

    def test_not_found_and_method(self):
        st, r, body = self.s.request("GET", "/services/collector/nope")
        self.assertEqual((st, body["code"]), (404, 404))
        st, r, body = self.s.request("GET", "/services/collector/event")
        self.assertEqual(st, 405)
        self.assertTrue(r.getheader("Content-Type").startswith("application/json"))
        st, r, body = self.s.request("OPTIONS", "/services/collector/event")
        self.assertEqual((st, r.getheader("Allow")), (200, "POST,OPTIONS"))
        st, r, body = self.s.request("POST", "/services/collector/health", "x")
        self.assertEqual(st, 405)
        # none of these count as event requests or consume the busy fault
        self.assertEqual(self.s.stats()["event_requests"], 0)


# ---------------------------------------------------------------------------
class TestFaults(unittest.TestCase):
    def run_standin(self, *args):
        s = StandIn(*args)
        self.addCleanup(s.stop)
        return s

    def test_throttle(self):
        s = self.run_standin("--fault", "throttle:1")
        st, r, body = s.post_event('{"event":"a"}')
        self.assertEqual(st, 429)
        self.assertEqual(body["code"], 9)
        self.assertEqual(r.getheader("Retry-After"), "1")
        self.assertEqual(s.post_event('{"event":"a"}')[0], 200)
        self.assertEqual(s.stats()["rejected"], {"429": 1})

    def test_fault_counts_every_event_request_even_unauthenticated(self):
        s = self.run_standin("--fault", "busy:1")
        self.assertEqual(s.request("POST", "/services/collector/event", '{"event":"a"}')[0], 503)
        self.assertEqual(s.request("POST", "/services/collector/event", '{"event":"a"}')[0], 401)

    def assert_reset(self, s, conn=None):
        c = conn or s.conn()
        try:
            c.request("POST", "/services/collector/event", body=b'{"event":"lost"}', headers=AUTH)
            with self.assertRaises(ConnectionResetError):
                c.getresponse().read()
        finally:
            c.close()

    def test_reset(self):
        s = self.run_standin("--fault", "reset:2")
        self.assert_reset(s)
        self.assert_reset(s)
        c = s.conn()
        try:
            self.assertEqual(s.post_event('{"event":"ok"}', conn=c)[0], 200)
            self.assertEqual(s.post_event('{"event":"ok2"}', conn=c)[0], 200)
        finally:
            c.close()
        st = s.stats()
        self.assertEqual(st["rejected"], {"reset": 2})
        self.assertEqual(st["event_requests"], 4)
        self.assertEqual([r["envelope"]["event"] for r in s.stored()], ["ok", "ok2"])
        self.assertIn("RST", s.log())

    def test_reset_on_reused_connection(self):
        s = self.run_standin("--fault", "busy:1", "--fault", "reset:1")
        c = s.conn()
        try:
            self.assertEqual(s.post_event('{"event":"a"}', conn=c)[0], 503)
            self.assert_reset(s, conn=c)
        finally:
            c.close()
        self.assertEqual(s.post_event('{"event":"a"}')[0], 200)

    def test_chain_order(self):
        s = self.run_standin("--fault", "throttle:1", "--fault", "busy:2", "--fault", "throttle:1")
        got = [s.post_event('{"event":"a"}')[0] for _ in range(5)]
        self.assertEqual(got, [429, 503, 503, 429, 200])

    def test_ack_never(self):
        s = self.run_standin("--ack", "--ack-delay", "0", "--fault", "ack-never:1")
        h = {"X-Splunk-Request-Channel": CH1}
        self.assertEqual(s.post_event('{"event":"lost"}', h)[2]["ackId"], 0)
        self.assertEqual(s.post_event('{"event":"kept"}', h)[2]["ackId"], 1)
        self.assertTrue(wait_for(lambda: s.poll([1])[2]["acks"]["1"]))
        time.sleep(0.2)
        self.assertEqual(s.poll([0, 1])[2]["acks"], {"0": False, "1": True})
        self.assertEqual([r["envelope"]["event"] for r in s.stored()], ["kept"])
        st = s.stats()
        self.assertEqual((st["accepted_requests"], st["lost_requests"], st["indexed_events"]), (2, 1, 1))

    def test_ack_never_without_ack_loses_silently(self):
        s = self.run_standin("--fault", "ack-never:1")
        self.assertEqual(s.post_event('{"event":"lost"}')[2], {"text": "Success", "code": 0})
        self.assertEqual(s.post_event('{"event":"kept"}')[0], 200)
        self.assertEqual([r["envelope"]["event"] for r in s.stored()], ["kept"])

    def test_ack_false(self):
        s = self.run_standin("--ack", "--ack-delay", "0", "--fault", "ack-false:2")
        s.post_event('{"event":"a"}', {"X-Splunk-Request-Channel": CH1})
        wait_for(lambda: s.stats()["indexed_events"] == 1)
        self.assertEqual(len(s.stored()), 1)
        self.assertEqual(s.poll([0])[2]["acks"], {"0": False})
        self.assertEqual(s.poll([0], channel=CH2)[2]["acks"], {"0": False})
        self.assertEqual(s.poll([0])[2]["acks"], {"0": True})

    def test_slow_ack(self):
        s = self.run_standin("--ack", "--ack-delay", "0", "--fault", "slow-ack:0.8")
        t0 = time.monotonic()
        s.post_event('{"event":"a"}', {"X-Splunk-Request-Channel": CH1})
        self.assertTrue(wait_for(lambda: s.poll([0])[2]["acks"]["0"], timeout=5))
        self.assertGreaterEqual(time.monotonic() - t0, 0.75)
        self.assertEqual(len(s.stored()), 1)

    def test_unauthorized_after(self):
        s = self.run_standin("--fault", "unauthorized-after:2")
        self.assertEqual(s.post_event('{"event":"a"}')[0], 200)
        self.assertEqual(s.post_event("")[0], 400)  # not a success: does not count
        self.assertEqual(s.post_event('{"event":"b"}')[0], 200)
        for _ in range(3):
            st, _, body = s.post_event('{"event":"c"}')
            self.assertEqual((st, body["code"], body["text"]), (401, 3, "Invalid authorization"))
        self.assertEqual(len(s.stored()), 2)

    def test_invalid_after(self):
        s = self.run_standin("--fault", "invalid-after:1")
        self.assertEqual(s.post_event('{"event":"a"}')[0], 200)
        for _ in range(2):
            st, _, body = s.post_event('{"event":"b"}')
            self.assertEqual((st, body["code"], body["text"]), (400, 6, "Invalid data format"))
        self.assertEqual(len(s.stored()), 1)
        self.assertEqual(s.stats()["rejected"], {"400": 2})

    def test_zero_counts_are_no_ops(self):
        s = self.run_standin("--fault", "busy:0", "--fault", "reset:0")
        self.assertEqual(s.post_event('{"event":"a"}')[0], 200)
        self.assertEqual(s.request("GET", "/services/collector/health")[0], 200)


# ---------------------------------------------------------------------------
@unittest.skipUnless(shutil.which("openssl"), "openssl CLI needed to make a test certificate")
class TestTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="hec-standin-tls-")
        cls.cert = os.path.join(cls.dir, "cert.pem")
        cls.key = os.path.join(cls.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", cls.key, "-out", cls.cert, "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_https_ack_and_reset(self):
        s = StandIn("--ack", "--ack-delay", "0", "--fault", "reset:1", tls=(self.cert, self.key))
        try:
            c = s.conn()
            try:
                c.request("POST", "/services/collector/event", body=b'{"event":"x"}', headers=AUTH)
                with self.assertRaises((ConnectionResetError, ssl.SSLError)):
                    c.getresponse().read()
            finally:
                c.close()
            c = s.conn()
            try:
                st, _, body = s.post_event('{"event":"x"}', {"X-Splunk-Request-Channel": CH1}, conn=c)
                self.assertEqual((st, body["ackId"]), (200, 0))
                self.assertTrue(wait_for(lambda: s.poll([0], conn=c)[2]["acks"]["0"]))
            finally:
                c.close()
            # a plain-HTTP client cannot talk to it
            plain = http.client.HTTPConnection("127.0.0.1", s.port, timeout=3)
            try:
                with self.assertRaises((http.client.HTTPException, ConnectionError, socket.timeout)):
                    plain.request("GET", "/services/collector/health")
                    plain.getresponse().read()
            finally:
                plain.close()
            # and the server is still fine afterwards
            self.assertEqual(s.request("GET", "/services/collector/health")[0], 200)
        finally:
            self.assertEqual(s.stop(), 0)


if __name__ == "__main__":
    unittest.main()
