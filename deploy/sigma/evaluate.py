#!/usr/bin/env python3
"""Runs the Sigma pack against labelled journals, with pySigma's sqlite backend.

For every rule: its attack scenario (deploy/sigma/scenarios/<rule name>.jsonl: scripted journal
rows enriched by the real `auditfwd enrich`, or a run of the real daemon) must raise it; a benign
baseline of every audit type (scripted rows, enriched by the same binary) must raise nothing but
the false positives the rule documents, which the baseline marks row by row.

The rules are converted as one collection (correlations resolve their base rules) and evaluated
in SQLite over the events, one table `logs` whose columns are the events' flattened field names
(`cp.allobj`); correlations use `entry_timestamp`. The scenarios are also checked through the
ECS and OCSF pipelines, against the same scenarios written by `enrich --format ecs|ocsf`.

Usage (from the venv that `bash .ci/setup` creates):
    python deploy/sigma/evaluate.py --auditfwd target/release/auditfwd [--baseline-rows 110000]
Prints one JSON document on standard output: per rule its scenario and baseline alerts.
"""

import argparse
import datetime
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.processing.pipeline import ProcessingPipeline

HERE = Path(__file__).resolve().parent
TYPES = ["JS", "PW", "CP", "AF", "SV", "PS", "GR", "CA", "OW", "AD", "PA"]
FORMATS = {
    "native": None,
    "ecs": HERE / "pipelines" / "ecs.yml",
    "ocsf": HERE / "pipelines" / "ocsf.yml",
}


# ---------------------------------------------------------------- the rules


def load_pack():
    """The pack as one collection; base rules (referenced by a correlation) are flagged."""
    collection = SigmaCollection.load_ruleset([str(HERE / "rules")])
    referenced = set()
    for rule in collection.rules:
        if isinstance(rule, SigmaCorrelationRule):
            referenced.update(reference.reference for reference in rule.rules)
    return collection, referenced


def convert(pipeline_path):
    """Rule name → SQL; plain rules first, so that correlations find their base rules converted.
    The collection is loaded afresh: a conversion applies its pipeline to the rules in place."""
    collection, _ = load_pack()
    pipeline = ProcessingPipeline.from_yaml(pipeline_path.read_text()) if pipeline_path else None
    backend = sqliteBackend(processing_pipeline=pipeline, timestamp_field="entry_timestamp")
    queries = {}
    for rule in collection.rules:
        if not isinstance(rule, SigmaCorrelationRule):
            queries[rule.name] = backend.convert_rule(rule)
    for rule in collection.rules:
        if isinstance(rule, SigmaCorrelationRule):
            queries[rule.name] = backend.convert_correlation_rule(rule)
    return queries


# ---------------------------------------------------------------- events


def enrich(auditfwd, audit_type, rows, output_format):
    """Rows of one audit type → events, through the real binary."""
    if not rows:
        return []
    text = "".join(json.dumps(row) + "\n" for row in rows)
    done = subprocess.run(
        [auditfwd, "enrich", "--audit-type", audit_type, "--format", output_format],
        input=text.encode(), capture_output=True, check=False)
    if done.returncode != 0:
        sys.exit(f"auditfwd enrich --audit-type {audit_type} failed ({done.returncode}): {done.stderr.decode()}")
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def run_daemon(auditfwd, work, output_format, lost_checkpoint=False, audit_types=("PW",), total_events=400):
    """The simulator through the real daemon into a file sink; with lost_checkpoint, the state is
    first emptied (its marker kept) and the daemon restarted with --accept-lost-checkpoint."""
    state = work / "state"
    out = work / "events.ndjson"
    config = work / "auditfwd.toml"
    config.write_text(
        "[source]\nkind = \"simulator\"\npoll_interval = \"100ms\"\nbatch_rows = 1000\n"
        f"audit_types = {json.dumps(list(audit_types))}\n"
        f"[source.simulator]\nseed = 3\nevents_per_second = 0\ntotal_events = {total_events}\n"
        "start_timestamp = \"2026-01-05T08:00:00\"\n"
        f"[event]\nschema_version = 2\n[state]\ndir = \"{state}\"\n"
        f"[[sinks]]\ntype = \"file\"\npath = \"{out}\"\nformat = \"{output_format}\"\n")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AUDITFWD_")}

    def run(*extra):
        done = subprocess.run([auditfwd, "run", "-c", str(config), "--exit-when-caught-up", *extra],
                              capture_output=True, env=environment, check=False, timeout=120)
        if done.returncode != 0:
            sys.exit(f"auditfwd run failed ({done.returncode}): {done.stderr.decode()[-2000:]}")

    run()
    if lost_checkpoint:
        for entry in state.iterdir():
            if entry.name != "auditfwd-checkpoint.marker":
                subprocess.run(["rm", "-rf", str(entry)], check=True)
        out.unlink()
        run("--accept-lost-checkpoint")
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def scenario_events(auditfwd, path, output_format, work):
    rows_by_type, events = {}, []
    for line in path.read_text().splitlines():
        item = json.loads(line)
        if "SCENARIO" in item:
            continue
        if "NATIVE" in item:
            if output_format == "native":
                events.append(item["NATIVE"])
            continue
        if "RUN" in item:
            events += run_daemon(auditfwd, work, output_format,
                                 lost_checkpoint=item["RUN"] == "lost_checkpoint",
                                 audit_types=item.get("audit_types", ["PW"]),
                                 total_events=item.get("total_events", 50))
            continue
        row = dict(item)
        audit_type = row.pop("AUDIT_TYPE")
        rows_by_type.setdefault(audit_type, []).append(row)
    for audit_type, rows in rows_by_type.items():
        events += enrich(auditfwd, audit_type, rows, output_format)
    return events


def flatten(value, prefix="", out=None):
    out = {} if out is None else out
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            flatten(item, name + ".", out)
        elif isinstance(item, list):
            out[name] = json.dumps(item)
        elif isinstance(item, bool):
            out[name] = int(item)
        else:
            out[name] = item
    return out


def event_time(event):
    """The entry time, whatever the format: native entry_timestamp, ECS @timestamp, OCSF time (ms)."""
    if "entry_timestamp" in event:
        return event["entry_timestamp"]
    if "@timestamp" in event:
        return event["@timestamp"]
    millis = event["time"]
    return datetime.datetime.fromtimestamp(millis / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_id(event):
    return event.get("event_id") or event.get("event", {}).get("id") or event.get("metadata", {}).get("uid")


def load(events):
    """Events → an in-memory SQLite database with one table `logs`; rowid → event id."""
    rows = []
    for event in events:
        row = flatten(event)
        row["entry_timestamp"] = event_time(event)
        rows.append(row)
    columns = sorted({column for row in rows for column in row})
    database = sqlite3.connect(":memory:")
    quoted = ", ".join(f'"{column}"' for column in columns)
    database.execute(f"CREATE TABLE logs ({quoted})")
    marks = ", ".join("?" for _ in columns)
    database.executemany(f"INSERT INTO logs ({quoted}) VALUES ({marks})",
                         ([row.get(column) for column in columns] for row in rows))
    ids = {index + 1: event_id(event) for index, event in enumerate(events)}
    return database, ids


def alerts(database, ids, queries):
    """Each alert as the list of the event ids that raised it (one for a plain rule, the
    evidence of a correlation)."""
    found = []
    for query in queries:
        while True:
            try:
                cursor = database.execute(query)
                break
            except sqlite3.OperationalError as error:
                # A field no event of this corpus carries (formats leave out null fields): an
                # empty column, as a SIEM would see it.
                if not str(error).startswith("no such column: "):
                    raise
                missing = str(error)[len("no such column: "):]
                database.execute(f'ALTER TABLE logs ADD COLUMN "{missing}"')
        names = [description[0] for description in cursor.description]
        for row in cursor.fetchall():
            record = dict(zip(names, row))
            if "event_ids" in record:
                evidence = [ids[int(reference.split(":")[-1])] for reference in json.loads(record["event_ids"])]
                found.append(sorted(evidence))
            else:
                found.append([record["event_id"] if "event_id" in record else
                              record.get("event.id") or record.get("metadata.uid")])
    return found


# ---------------------------------------------------------------- the benign baseline


class Baseline:
    """A scripted, benign journal of every audit type: ten working days of an ordinary shop.
    Rows that a rule documents as a false positive are recorded under that rule's name."""

    def __init__(self, total_rows, seed=20260301):
        self.random = random.Random(seed)
        self.rows = {audit_type: [] for audit_type in TYPES}
        self.expected = {}
        self.sequence = 1
        self.total = total_rows
        self.users = [f"APPUSR{number:02d}" for number in range(1, 61)]
        self.address = {user: f"10.20.{number // 200}.{number % 200 + 10}" for number, user in enumerate(self.users)}

    def row(self, audit_type, when, false_positive_of=None, **columns):
        row = {"SYSTEM_NAME": "PROD1", "RECEIVER_LIBRARY": "QGPL", "RECEIVER_NAME": "AUDRCV0200",
               "SEQUENCE_NUMBER": self.sequence,
               "ENTRY_TIMESTAMP": when.strftime("%Y-%m-%d-%H.%M.%S.%f")}
        row.update(columns)
        self.rows[audit_type].append(row)
        if false_positive_of:
            self.expected.setdefault(false_positive_of, []).append(f"PROD1:QGPL/AUDRCV0200:{self.sequence}")
        self.sequence += 1

    def working_time(self, day):
        start = datetime.datetime(2026, 3, 2) + datetime.timedelta(days=day)
        return start + datetime.timedelta(hours=8, seconds=self.random.randrange(0, 10 * 3600))

    def build(self):
        pick = self.random.choice
        per_day = self.total // 10
        for day in range(10):
            for _ in range(per_day):
                when = self.working_time(day)
                user = pick(self.users)
                kind = self.random.random()
                common = dict(USER_NAME=user, JOB_NAME="QPADEV0007", JOB_USER=user, JOB_NUMBER=str(500000 + self.sequence % 99999),
                              REMOTE_ADDRESS=self.address[user])
                if kind < 0.40:
                    job, secure_type = pick([("QPADEV0007", "INT"), ("QZDASSINIT", "PJ"), ("QZDASOINIT", "PJ"), ("QZRCSRVS", "PJ"), ("DAILYRPT", "BCH")])
                    code = pick(["S", "E", "M"]) if secure_type == "PJ" else pick(["S", "E"])
                    self.row("JS", when, USER_NAME="QUSER" if secure_type == "PJ" else user, JOB_TYPE=secure_type, JOB_NAME=job,
                             JOB_USER="QUSER" if secure_type == "PJ" else user, JOB_NUMBER=common["JOB_NUMBER"], ENTRY_TYPE=code,
                             REAL_USER_PROFILE=user, EFFECTIVE_USER_PROFILE=user, REMOTE_ADDRESS=self.address[user],
                             REMOTE_PORT=self.random.randrange(49152, 65535))
                elif kind < 0.43:
                    # administrators at work, over encrypted channels, in business hours
                    admin = pick(["QSECOFR", "SECADM01"])
                    job, job_type = pick([("QZDASSINIT", "PJ"), ("QPADEV0001", "INT")])
                    self.row("JS", when, USER_NAME="QUSER" if job_type == "PJ" else admin, JOB_TYPE=job_type, JOB_NAME=job,
                             JOB_USER="QUSER" if job_type == "PJ" else admin, JOB_NUMBER="600001", ENTRY_TYPE="M" if job_type == "PJ" else "S",
                             REAL_USER_PROFILE=admin, EFFECTIVE_USER_PROFILE=admin, REMOTE_ADDRESS="10.20.9.1", REMOTE_PORT=50000)
                elif kind < 0.50:
                    # a lone wrong password now and then: never enough for a correlation
                    self.row("PW", when, USER_NAME="QUSER", JOB_NAME="QZSOSIGN", JOB_USER="QUSER", JOB_NUMBER="600002",
                             REMOTE_ADDRESS=self.address[user], VIOLATION_TYPE="P", AUDIT_USER_NAME=user)
                elif kind < 0.56:
                    self.row("CP", when, **self.admin(), USER_PROFILE=user, COMMAND_TYPE="CHG", STATUS="*ENABLED",
                             PASSWORD_CHANGED=pick(["Y", "N"]), SPECIAL_AUTHORITIES="*NONE", ALLOBJ="N", PREVIOUS_ALLOBJ="N")
                elif kind < 0.66:
                    self.row("AF", when, **common, VIOLATION_TYPE="A", OBJECT_LIBRARY=pick(["PAYLIB", "HRLIB", "QSYS"]),
                             OBJECT_NAME=pick(["PAYROLL", "EMPMAST", "QAUDJRN"]), OBJECT_TYPE="*FILE", USER_PROFILE_NAME=user)
                elif kind < 0.68:
                    name, old, new = pick([("QPRTDEV", "PRT01", "PRT02"), ("QINACTITV", "60", "30"), ("QDSPSGNINF", "0", "1"),
                                           ("QAUDLVL", "*AUTFAIL *SECURITY", "*AUTFAIL *SECURITY *JOBDTA"),
                                           ("QSECURITY", "40", "50"), ("QMAXSIGN", "5", "3")])
                    self.row("SV", when, **self.admin(), ENTRY_TYPE="A", SYSTEM_VALUE=name, OLD_VALUE=old, NEW_VALUE=new)
                elif kind < 0.78:
                    self.row("PS", when, **common, ENTRY_TYPE=pick(["S", "E", "H", "P"]), USER_PROFILE_NAME=user,
                             IP_ADDRESS=self.address[user])
                elif kind < 0.80:
                    if self.random.random() < 0.5:
                        self.row("GR", when, **self.admin(), ENTRY_TYPE="A", EXIT_POINT_NAME="QIBM_QZDA_INIT", EXIT_POINT_FORMAT="ZDAI0100",
                                 EXIT_PROGRAM_LIBRARY="SECLIB", EXIT_PROGRAM="ODBCEXIT")
                    else:
                        self.row("GR", when, **self.admin(), ENTRY_TYPE="F", FUNCTION_NAME="QIBM_DB_SQLADM", USER_PROFILE_NAME=user,
                                 USAGE_SETTING="*ALLOWED", PREVIOUS_USAGE="*DENIED")
                elif kind < 0.88:
                    grantee = pick([user, "*PUBLIC"])
                    change = grantee != "*PUBLIC"
                    self.row("CA", when, **self.admin(), COMMAND_TYPE=pick(["GRANT", "REVOKE"]), OBJECT_LIBRARY="APPLIB",
                             OBJECT_NAME=pick(["ORDERS", "CUSTMAST"]), OBJECT_TYPE="*FILE", USER_PROFILE_NAME=grantee,
                             OBJECT_OPERATIONAL="Y", DATA_READ="Y", DATA_EXECUTE="Y",
                             DATA_ADD="Y" if change else "N", DATA_UPDATE="Y" if change else "N", DATA_DELETE="Y" if change else "N")
                elif kind < 0.93:
                    self.row("OW", when, **self.admin(), OBJECT_LIBRARY="APPLIB", OBJECT_NAME=pick(["ORDPGM", "INVPGM"]),
                             OBJECT_TYPE="*PGM", PREVIOUS_OWNER=user, NEW_OWNER="APPOWNER")
                elif kind < 0.97:
                    old, new = pick([("*NONE", "*CHANGE"), ("*CHANGE", "*ALL"), ("*USRPRF", "*CHANGE")])
                    self.row("AD", when, **self.admin(), ENTRY_TYPE=pick(["O", "U"]), OBJECT_AUDIT=new, PREV_OBJECT_AUDIT=old,
                             LIBRARY_NAME="APPLIB", OBJECT_NAME="ORDERS", OBJECT_TYPE="*FILE")
                else:
                    self.row("PA", when, **self.admin(), ENTRY_TYPE="A", OBJECT_LIBRARY="APPLIB", OBJECT_NAME=pick(["ORDPGM", "INVPGM"]),
                             OBJECT_TYPE="*PGM", OBJECT_OWNER="APPOWNER")
            # documented false positive: the nightly save runs as QSECOFR at 02:00
            night = datetime.datetime(2026, 3, 2) + datetime.timedelta(days=day, hours=2)
            self.row("JS", night, "ibmi_privileged_out_of_hours", USER_NAME="QSECOFR", JOB_TYPE="BCH", JOB_NAME="NIGHTSAVE",
                     JOB_USER="QSECOFR", JOB_NUMBER="600100", ENTRY_TYPE="S", REAL_USER_PROFILE="QSECOFR", EFFECTIVE_USER_PROFILE="QSECOFR")
            self.row("JS", night + datetime.timedelta(minutes=50), USER_NAME="QSECOFR", JOB_TYPE="BCH", JOB_NAME="NIGHTSAVE",
                     JOB_USER="QSECOFR", JOB_NUMBER="600100", ENTRY_TYPE="E", REAL_USER_PROFILE="QSECOFR", EFFECTIVE_USER_PROFILE="QSECOFR")
        self.stories()
        return self

    def admin(self):
        return dict(USER_NAME="SECADM01", JOB_NAME="QPADEV0001", JOB_USER="SECADM01", JOB_NUMBER="600003", REMOTE_ADDRESS="10.20.9.1")

    def stories(self):
        """Documented false positives that are stories rather than noise."""
        monday = datetime.datetime(2026, 3, 9, 9, 0)
        self.address["HOLIDAY1"] = "10.20.9.50"
        # a user back from holiday: an expired password, then a locked profile, then the help desk
        self.row("PW", monday, "ibmi_signon_expired_password", USER_NAME="QUSER", JOB_NAME="QZSOSIGN", JOB_USER="QUSER",
                 JOB_NUMBER="600004", REMOTE_ADDRESS=self.address["HOLIDAY1"], VIOLATION_TYPE="R", AUDIT_USER_NAME="HOLIDAY1")
        for minute in (1, 2):
            self.row("PW", monday + datetime.timedelta(minutes=minute), USER_NAME="QUSER", JOB_NAME="QZSOSIGN", JOB_USER="QUSER",
                     JOB_NUMBER="600004", REMOTE_ADDRESS=self.address["HOLIDAY1"], VIOLATION_TYPE="P", AUDIT_USER_NAME="HOLIDAY1")
        self.row("PW", monday + datetime.timedelta(minutes=3), "ibmi_signon_disabled_profile", USER_NAME="QUSER", JOB_NAME="QZSOSIGN",
                 JOB_USER="QUSER", JOB_NUMBER="600004", REMOTE_ADDRESS=self.address["HOLIDAY1"], VIOLATION_TYPE="Q", AUDIT_USER_NAME="HOLIDAY1")
        self.expected.setdefault("ibmi_profile_reenabled", []).append(f"PROD1:QGPL/AUDRCV0200:{self.sequence - 1}")
        self.row("CP", monday + datetime.timedelta(minutes=20), "ibmi_profile_reenabled", USER_NAME="HELPDESK1", JOB_NAME="QPADEV0005",
                 JOB_USER="HELPDESK1", JOB_NUMBER="600005", REMOTE_ADDRESS="10.20.9.2", USER_PROFILE="HOLIDAY1", COMMAND_TYPE="CHG",
                 STATUS="*ENABLED", PASSWORD_CHANGED="Y", PASSWORD_EXPIRED="Y")
        # daylight saving time: QUTCOFFSET moves by an hour
        self.row("SV", datetime.datetime(2026, 3, 8, 2, 0), "ibmi_clock_changed", USER_NAME="QSYS", JOB_NAME="QSYSARB", JOB_USER="QSYS",
                 JOB_NUMBER="000001", ENTRY_TYPE="D", SYSTEM_VALUE="QUTCOFFSET", OLD_VALUE="-05:00", NEW_VALUE="-04:00")
        # a leaver disabled for good: no re-enable follows
        self.row("CP", datetime.datetime(2026, 3, 4, 17, 0), **self.admin(), USER_PROFILE="LEAVER2", COMMAND_TYPE="CHG", STATUS="*DISABLED")


# ---------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--auditfwd", required=True, help="the auditfwd binary")
    parser.add_argument("--baseline-rows", type=int, default=110_000)
    parser.add_argument("--formats", default="native,ecs,ocsf", help="formats whose scenarios are checked")
    arguments = parser.parse_args()
    started = time.monotonic()

    collection, referenced = load_pack()
    rules = [rule for rule in collection.rules]
    report = {"rules": {}, "formats": arguments.formats.split(",")}
    for rule in rules:
        report["rules"][rule.name] = {
            "title": rule.title, "id": str(rule.id), "level": str(rule.level.name).lower() if rule.level else None,
            "kind": "base" if rule.name in referenced else ("correlation" if isinstance(rule, SigmaCorrelationRule) else "rule"),
            "scenario": {}, "baseline_alerts": [], "unexpected_baseline_alerts": [],
        }
    scenarios = sorted((HERE / "scenarios").glob("*.jsonl"))
    report["scenarios"] = [path.stem for path in scenarios]

    with tempfile.TemporaryDirectory() as scratch:
        for output_format in report["formats"]:
            queries = convert(FORMATS[output_format])
            for number, path in enumerate(scenarios):
                work = Path(scratch) / f"{output_format}-{number}"
                work.mkdir()
                events = scenario_events(arguments.auditfwd, path, output_format, work)
                if not events:
                    continue  # hand-written native events only
                database, ids = load(events)
                name = path.stem
                if name in report["rules"]:
                    report["rules"][name]["scenario"][output_format] = {
                        "events": len(events), "alerts": alerts(database, ids, queries[name])}

        baseline = Baseline(arguments.baseline_rows).build()
        events = []
        for audit_type in TYPES:
            events += enrich(arguments.auditfwd, audit_type, baseline.rows[audit_type], "native")
        report["baseline"] = {"events": len(events),
                              "per_type": {audit_type: len(baseline.rows[audit_type]) for audit_type in TYPES},
                              "documented_false_positives": baseline.expected}
        database, ids = load(events)
        queries = convert(None)
        for name, entry in report["rules"].items():
            found = alerts(database, ids, queries[name])
            allowed = set(baseline.expected.get(name, []))
            entry["baseline_alerts"] = found
            entry["unexpected_baseline_alerts"] = [alert for alert in found if not set(alert) <= allowed]
    report["seconds"] = round(time.monotonic() - started, 1)
    json.dump(report, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
