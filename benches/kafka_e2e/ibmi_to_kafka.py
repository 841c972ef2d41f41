#!/usr/bin/env python3
"""The script an IBM i user would write today to feed Kafka from the audit journal.

IBM Support's connection-tracking query (document ibm17269032) over
SYSTOOLS.AUDIT_JOURNAL_JS with its two CASE labels, JOB_EVENT_TYPE and
CONNECTION_TYPE, fetched with pyodbc; each row becomes one JSON object, sent with
confluent-kafka (enable.idempotence=true, acks=all) keyed by the entry's id
(SYSTEM:LIBRARY/RECEIVER:SEQUENCE); flushed at the end. The only change to IBM's
query: it keeps every entry (a feed ships everything; the one-user WHERE and the
newest-first order are for a look by hand) and reads oldest first.

    ibmi_to_kafka.py CONNECTION_STRING STARTING_TIMESTAMP BROKERS TOPIC

Prints the number of entries sent and the seconds it took (connect to flush).
Needs: pip install pyodbc confluent-kafka
"""

import datetime
import decimal
import json
import sys
import time

import pyodbc
from confluent_kafka import Producer

SEED_QUERY = """
SELECT X.*,
       CASE X."ENTRY_TYPE"
            WHEN 'S' THEN 'Start'
            WHEN 'E' THEN 'End'
            WHEN 'M' THEN 'Change profile or group profile'
            ELSE 'Other'
       END AS "JOB_EVENT_TYPE",
       CASE
            WHEN X."JOB_TYPE" = 'INT' THEN '5250 / Telnet (Non-Secure unless SSL/Telnet configured)'
            WHEN X."JOB_NAME" LIKE 'QZDASOINIT%' THEN 'ODBC / JDBC (Non-Secure)'
            WHEN X."JOB_NAME" LIKE 'QZDASSINIT%' THEN 'ODBC / JDBC (Secure SSL/TLS)'
            WHEN X."JOB_NAME" LIKE 'QTFTP%' THEN 'FTP (Non-Secure)'
            WHEN X."JOB_NAME" LIKE 'QSSHD%' THEN 'SFTP (Secure SSH)'
            WHEN X."JOB_NAME" LIKE 'QRWTSRVR%' THEN 'Remote SQL (Secure depends on configuration)'
            WHEN X."JOB_NAME" LIKE 'QZRCSRVS%' THEN 'Remote Command (Secure depends on configuration)'
            WHEN X."JOB_NAME" LIKE 'QP0ZSPWP%' THEN 'SSH / Spawned Process (Secure)'
            WHEN X."JOB_NAME" LIKE 'QHTTPSVR%' THEN 'Web (HTTP or HTTPS - verify server config)'
            WHEN X."JOB_NAME" LIKE 'QZLSFILE%' THEN 'Mapped Drive (Secure depends on NetServer config)'
            WHEN X."JOB_NAME" LIKE 'QPWFSERVSO%' THEN 'File Server Job (Secure depends on config)'
            ELSE 'Other Host Server (Security Unknown)'
       END AS "CONNECTION_TYPE"
FROM systools.audit_journal_js(starting_timestamp => ?) X
ORDER BY X."ENTRY_TIMESTAMP", X."SEQUENCE_NUMBER"
"""


def plain(value):
    if isinstance(value, str):
        return value.rstrip()
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def main():
    connection_string, starting, brokers, topic = sys.argv[1:5]
    started = time.monotonic()
    failures = []

    def delivered(error, message):
        if error is not None:
            failures.append(error)

    producer = Producer(
        {
            "bootstrap.servers": brokers,
            "enable.idempotence": True,
            "acks": "all",
        }
    )
    connection = pyodbc.connect(connection_string)
    cursor = connection.cursor()
    cursor.execute(SEED_QUERY, datetime.datetime.fromisoformat(starting))
    columns = [column[0] for column in cursor.description]
    sent = 0
    while True:
        rows = cursor.fetchmany(1000)
        if not rows:
            break
        for row in rows:
            record = {name: plain(value) for name, value in zip(columns, row)}
            key = "{}:{}/{}:{}".format(
                record["SYSTEM_NAME"],
                record["RECEIVER_LIBRARY"],
                record["RECEIVER_NAME"],
                record["SEQUENCE_NUMBER"],
            )
            value = json.dumps(record)
            while True:
                try:
                    producer.produce(topic, key=key, value=value, on_delivery=delivered)
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
            sent += 1
    connection.close()
    remaining = producer.flush(120)
    if remaining or failures:
        sys.exit(f"{remaining} records not delivered, {len(failures)} failed: {failures[:3]}")
    print(sent, f"{time.monotonic() - started:.3f}")


if __name__ == "__main__":
    main()
