#!/usr/bin/env python3
"""A pyodbc client reading what the daemon reads: its window statement (the same
text, the same columns) over one receiver, 10,000 sequence numbers a call,
through the same driver, each row fetched into Python objects and counted.

    pyodbc_client.py CONNECTION_STRING STATEMENT LIBRARY RECEIVER LAST_SEQUENCE

Prints the number of rows read.
"""

import sys

import pyodbc

WINDOW = 10_000
BLOCK = 500


def main():
    connection_string, statement, library, receiver, last = sys.argv[1:6]
    last = int(last)
    connection = pyodbc.connect(connection_string)
    cursor = connection.cursor()
    rows = 0
    first = 1
    while first <= last:
        end = min(first + WINDOW - 1, last)
        cursor.execute(
            statement, library, receiver, library, receiver, str(first), str(end)
        )
        while True:
            block = cursor.fetchmany(BLOCK)
            if not block:
                break
            rows += len(block)
        first = end + 1
    connection.close()
    print(rows)


if __name__ == "__main__":
    main()
