#!/usr/bin/env python3
"""Compares two `warden process` output directories record by record.

    python3 bench/compare_outputs.py DIR_A DIR_B

For every <topic>.jsonl in either directory (a missing file counts as empty), the records are
compared in order: topic, key, headers (an ordered list of name/value pairs; the value of
`dlq_timestamp` is wall-clock time and is ignored) and payload. Payloads that both parse as JSON
are compared as JSON values: object member order is ignored, a duplicate member name counts with
its last value (as json.loads, and most readers, take it), and numbers compare by the value they
parse to, an integer never equal to a float or a boolean. Other payloads are compared byte for
byte. Prints each topic's record counts and mismatches, the first few of them in short form.
Exits 0 when the directories hold the same records, 1 otherwise.
"""

import json
import os
import sys

SHOWN_MISMATCHES = 5  # per topic
SHOWN_CHARS = 100  # of each differing value
IGNORED_HEADER_VALUES = {"dlq_timestamp"}


def read_records(path):
    """The records of a topic file, each a dict, or a raw line when it is not an envelope."""
    if not os.path.exists(path):
        return []
    records = []
    with open(path, "rb") as f:
        for raw in f:
            line = raw.removesuffix(b"\n").decode("utf-8", "surrogateescape")
            try:
                record = json.loads(line)
            except ValueError:
                record = line
            records.append(record if isinstance(record, dict) else line)
    return records


def short(value):
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."


def json_difference(a, b, path="payload"):
    """(path, a, b) of the first difference between two parsed JSON values, or None."""
    if type(a) is not type(b):  # 1, 1.0 and true are different values to a typed reader
        return path, a, b
    if isinstance(a, dict):
        for name in list(a) + [n for n in b if n not in a]:
            if name not in a or name not in b:
                return f"{path}.{name}", a.get(name, "<absent>"), b.get(name, "<absent>")
            found = json_difference(a[name], b[name], f"{path}.{name}")
            if found:
                return found
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            found = json_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None if len(a) == len(b) else (f"{path} length", len(a), len(b))
    return None if a == b else (path, a, b)


def refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def parsed_payload(payload):
    """(value,) when the payload is JSON (NaN and Infinity are not), else None."""
    if not isinstance(payload, str):
        return None
    try:
        return (json.loads(payload, parse_constant=refuse_constant),)
    except ValueError:
        return None


def comparable_headers(headers):
    """[[name, value], ...] with wall-clock values blanked; anything else as it is."""
    if not isinstance(headers, list) or len(headers) % 2:
        return headers
    return [[name, "<ignored>" if isinstance(name, str) and name in IGNORED_HEADER_VALUES else value]
            for name, value in zip(headers[::2], headers[1::2])]


def record_difference(a, b):
    """(field, a, b) of the first difference between two records, or None."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return None if a == b else ("line", a, b)
    for name in ("topic", "key"):
        if a.get(name) != b.get(name):
            return name, a.get(name), b.get(name)
    headers_a, headers_b = comparable_headers(a.get("headers")), comparable_headers(b.get("headers"))
    if headers_a != headers_b:
        if isinstance(headers_a, list) and isinstance(headers_b, list):
            for i, (x, y) in enumerate(zip(headers_a, headers_b)):
                if x != y:
                    return f"headers[{i}]", x, y
            return "headers count", len(headers_a), len(headers_b)
        return "headers", headers_a, headers_b
    payload_a, payload_b = a.get("payload"), b.get("payload")
    parsed_a, parsed_b = parsed_payload(payload_a), parsed_payload(payload_b)
    if parsed_a and parsed_b:
        return json_difference(parsed_a[0], parsed_b[0])
    return None if payload_a == payload_b else ("payload", payload_a, payload_b)


def compare_topic(path_a, path_b):
    """Prints the comparison of one topic's files; returns its number of mismatches."""
    records_a, records_b = read_records(path_a), read_records(path_b)
    mismatches = []
    for i in range(max(len(records_a), len(records_b))):
        if i >= len(records_a) or i >= len(records_b):  # one file is longer
            mismatches.append((i, "record", records_a[i] if i < len(records_a) else "<absent>",
                               records_b[i] if i < len(records_b) else "<absent>"))
            continue
        found = record_difference(records_a[i], records_b[i])
        if found:
            mismatches.append((i, *found))
    topic = os.path.basename(path_a)
    print(f"{topic}: A {len(records_a)} records, B {len(records_b)} records, {len(mismatches)} mismatches")
    for i, where, value_a, value_b in mismatches[:SHOWN_MISMATCHES]:
        print(f"  record {i}, {where}:\n    A: {short(value_a)}\n    B: {short(value_b)}")
    if len(mismatches) > SHOWN_MISMATCHES:
        print(f"  ... and {len(mismatches) - SHOWN_MISMATCHES} more")
    return len(mismatches)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: compare_outputs.py DIR_A DIR_B")
    dir_a, dir_b = sys.argv[1:]
    topics = sorted({name for d in (dir_a, dir_b) for name in os.listdir(d) if name.endswith(".jsonl")})
    total = sum(compare_topic(os.path.join(dir_a, name), os.path.join(dir_b, name)) for name in topics)
    print("identical" if total == 0 else f"{total} mismatches")
    return 0 if total == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
