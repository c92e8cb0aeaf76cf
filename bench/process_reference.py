#!/usr/bin/env python3
"""A straightforward Python implementation of `warden process`, the baseline of the benchmark.

    python3 bench/process_reference.py --teams TEAMS.json --input INPUT.jsonl --output-dir DIR

It applies the rules of SPEC.md as warden implements them (token resolution, verification, merge,
routing with the heatmap split, drops and dead letters, secret redaction, UTF-8 repair, size and
depth limits) to the same input lines (`kcat -J` envelopes or bare values), writes the same
DIR/<topic>.jsonl files and prints the same JSON summary as the last line on stdout. It is written
as plain idiomatic Python (json, dicts, hashlib through uuid5; one process, no C extensions), so
that "warden is N times a straightforward Python implementation of the same rules" means
something. bench/compare_outputs.py checks that both produce the same records.

Deliberate simplifications, none of which occurs in the benchmark corpus:
- Duplicate JSON member names collapse as json.loads reads them (the last one wins, which is what
  warden's output means too); a `$verified` hidden only in a shadowed duplicate is therefore not
  counted as `stripped`.
- The team store is the file, looked up as a dict: no cache, no TTL (nothing changes during a run).
- Options: only the default topic names and the default 1,000,000-byte message limit.

Numbers are read as Python reads them: correctly rounded, and a number beyond the range of a
double makes its JSON malformed. A team secret is looked for in an output value as the JSON text
spells it, control characters included.
"""

import argparse
import json
import math
import os
import re
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

INPUT_TOPIC = "events_plugin_ingestion"
TOPICS = {  # output destination -> topic (SPEC §5, §6), in the order the summary lists them
    "analytics": "events_analytics",
    "error_tracking": "events_error_tracking",
    "heatmaps": "events_heatmaps",
    "dead_letter": "events_dlq",
}
DROP_CAUSES = ("no_token", "invalid_token", "heatmap_opt_in_disabled")
DLQ_REASONS = ("failed_parse_message", "empty_uuid", "invalid_uuid", "message_too_large")
DLQ_STEPS = {
    "failed_parse_message": "parse_message",
    "empty_uuid": "validate_event",
    "invalid_uuid": "validate_event",
    "message_too_large": "check_size",
}

MAX_MESSAGE_BYTES = 1_000_000  # Kafka's default message.max.bytes, as warden counts a record
MAX_JSON_DEPTH = 64  # deeper JSON is malformed: it bounds the work hostile input can cause
MAX_TOPIC_BYTES = 249  # a Kafka topic name's limit, for dlq_topic
# A record batch of one record (61-byte header, record framing with the widest varints), and the
# name and value lengths of each header: what a broker counts against its limit.
BATCH_OVERHEAD = 61 + 5 + 1 + 10 + 5 + 5 + 5 + 5
HEADER_OVERHEAD = 5 + 5

# Namespace of warden's derived heatmap uuids (uuid.cpp).
HEATMAP_NAMESPACE = uuid.UUID("6f1d3a52-8b4e-4c21-9a07-5e3b11c482d9")
HEATMAP_PROPERTIES = ("$heatmap_data", "$viewport_height", "$viewport_width", "$session_id",
                      "$prev_pageview_pathname", "$prev_pageview_max_scroll", "$current_url")

# Top-level names the renderer writes itself or never writes; and those it copies, whose
# NUL-disguised forms it drops (reserved_names.cpp).
WRITTEN_TOP_LEVEL = {"uuid", "event", "distinct_id", "team_id", "project_id", "timestamp", "now",
                     "sent_at", "properties", "token", "ip", "$verified"}
COPIED_TOP_LEVEL = {"data", "$set", "$set_once"}
SPECIAL_PROPERTIES = {"$set", "$set_once", "$unset", "$ip", "$sent_at", "$verified", "$heatmap_data"}
RESERVED_HEADERS = {"token", "team_id", "verified", "replayed"}
HEATMAP_REWRITTEN_HEADERS = {"event", "uuid"}

TOKEN_RE = re.compile(r"[\x21-\x7e]{1,64}")  # 1-64 printable ASCII characters, no space
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# A secret or personal API key: the prefix and key characters (printable ASCII except quotes,
# backslash, brackets and the separators of lists and query strings).
KEY_CHARS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "\"'\\,;&?#()[]{}<>")
KEY_RE = re.compile("ph[sx]_[" + re.escape(KEY_CHARS) + "]+")
REDACTED = "[redacted]"
ESCAPE_RE = re.compile(r"\\u([0-9a-fA-F]{4})")
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

# Text is kept as str throughout; bytes that are not UTF-8 survive as surrogate escapes, so that
# dead letters keep the original bytes and enriched outputs can repair them.
ENCODING = "utf-8"
RAW = "surrogateescape"


class DeadLetter(Exception):
    """Raised by any stage: the message goes to the dead-letter topic instead of any output."""

    def __init__(self, reason, detail):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail  # a fixed description, never message content


# ---------------------------------------------------------------------------------------------
# Text and JSON helpers


def nbytes(text):
    return len(text.encode(ENCODING, RAW))


def cut_bytes(text, size):
    """The first `size` bytes of `text` (a cut may split a character: dead letters are bytes)."""
    return text.encode(ENCODING, RAW)[:size].decode(ENCODING, RAW)


def repaired_utf8(text):
    """Invalid UTF-8 becomes U+FFFD, one per maximal invalid subpart (as warden's utf8.cpp)."""
    return text.encode(ENCODING, RAW).decode(ENCODING, "replace")


def escape_unit(text, at):
    match = ESCAPE_RE.match(text, at)
    return int(match.group(1), 16) if match else -1


def repair_lone_surrogates(text):
    """A \\uD800-\\uDFFF escape that is not half of a high-low pair becomes \\uFFFD.

    JavaScript writes such escapes; they cannot become UTF-8. warden repairs them in JSON text
    before parsing it (json_parse.cpp), so this does the same.
    """
    if "\\u" not in text:
        return text
    pieces, done = [], 0
    at = text.find("\\u")
    while at != -1:
        backslashes = 0
        while backslashes < at and text[at - 1 - backslashes] == "\\":
            backslashes += 1
        if backslashes % 2 == 1:  # the backslash is itself escaped: no escape here
            at = text.find("\\u", at + 2)
            continue
        unit = escape_unit(text, at)
        if 0xD800 <= unit <= 0xDBFF and 0xDC00 <= escape_unit(text, at + 6) <= 0xDFFF:
            at = text.find("\\u", at + 12)  # a pair: kept
            continue
        if 0xD800 <= unit <= 0xDFFF:
            pieces.append(text[done:at + 2])
            pieces.append("FFFD")
            done = at + 6
        at = text.find("\\u", at + 2)
    pieces.append(text[done:])
    return "".join(pieces)


def refuse_constant(name):
    raise ValueError(f"{name} is not JSON")  # RapidJSON refuses NaN and Infinity


def json_float(text):
    value = float(text)
    if math.isinf(value):
        raise ValueError("number too big")  # RapidJSON refuses what a double cannot hold
    return value


def json_int(text):
    value = int(text)
    # RapidJSON keeps integers of 64 bits; larger ones become doubles.
    return value if -2**63 <= value < 2**64 else json_float(text)


def nesting_depth(value):
    if isinstance(value, dict):
        return 1 + max(map(nesting_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(nesting_depth, value), default=0)
    return 0


def parse_json(text, max_depth=None):
    """JSON text as warden reads client-written JSON. Raises ValueError or RecursionError."""
    value = json.loads(repair_lone_surrogates(text), parse_constant=refuse_constant,
                       parse_float=json_float, parse_int=json_int)
    # Nesting deeper than max_depth needs more than max_depth brackets: walk only then.
    if (max_depth is not None and text.count("{") + text.count("[") > max_depth
            and nesting_depth(value) > max_depth):
        raise ValueError("nests too deep")
    return value


def to_json(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def number_text(value):
    """A number as RapidJSON's writer prints it (distinct_id and event numbers become strings)."""
    if isinstance(value, int):
        return str(value)
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    # The shortest digits that read back as the value, laid out as RapidJSON does (Prettify).
    _, digit_tuple, k = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    kk = len(digits) + k  # 10^(kk-1) <= value < 10^kk
    if 0 <= k and kk <= 21:
        text = digits + "0" * k + ".0"
    elif 0 < kk <= 21:
        text = digits[:kk] + "." + digits[kk:]
    elif -6 < kk <= 0:
        text = "0." + "0" * -kk + digits
    elif len(digits) == 1:
        text = f"{digits}e{kk - 1}"
    else:
        text = f"{digits[0]}.{digits[1:]}e{kk - 1}"
    return ("-" if value < 0 else "") + text


def stringify(value):
    """distinct_id and event: strings, or numbers and booleans as text (SPEC §2.3); else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_text(value)
    return None


def truthy(value):
    """A value that counts as set for `$ip` (null, false and "" do not; 0 and {} do)."""
    if value is None:
        return False
    if isinstance(value, (str, bool)):
        return bool(value)
    return True


# Names that read as another to a reader that stops at NUL (`$verified\0x` reads as `$verified`):
# they are treated like that name, or dropped (reserved_names.hpp).

def shown_name(name):
    return name.partition("\0")[0]


def is_verified(name):
    return shown_name(name) == "$verified"


def is_reserved_top_level(name):
    shown = shown_name(name)
    return shown in WRITTEN_TOP_LEVEL or (shown != name and shown in COPIED_TOP_LEVEL)


def is_disguised_special_property(name):
    shown = shown_name(name)
    return shown != name and shown in SPECIAL_PROPERTIES


def is_reserved_header(name, heatmap):
    shown = shown_name(name).translate(ASCII_LOWER)  # header names match in any ASCII case
    return shown in RESERVED_HEADERS or (heatmap and shown in HEATMAP_REWRITTEN_HEADERS)


# ---------------------------------------------------------------------------------------------
# Teams (SPEC §1, §3)


@dataclass
class Team:
    id: int
    project_id: int
    api_token: str
    secret_api_token: str | None = None
    secret_api_token_backup: str | None = None
    anonymize_ips: bool = False
    heatmaps_opt_in: bool | None = None

    def tokens(self):
        return [t for t in (self.api_token, self.secret_api_token, self.secret_api_token_backup) if t]

    def secrets(self):
        return [t for t in (self.secret_api_token, self.secret_api_token_backup) if t]

    def is_secret(self, token):
        # A secret that is also the team's public token proves nothing.
        return token != self.api_token and token in (self.secret_api_token, self.secret_api_token_backup)


def load_teams(path):
    """token -> Team, for tokens that exactly one team owns: a shared token is refused (SPEC §5)."""
    with open(path, encoding=ENCODING) as f:
        rows = json.load(f)
    teams = [Team(id=row["id"], project_id=row.get("project_id", row["id"]), api_token=row["api_token"],
                  secret_api_token=row.get("secret_api_token"),
                  secret_api_token_backup=row.get("secret_api_token_backup"),
                  anonymize_ips=bool(row.get("anonymize_ips")), heatmaps_opt_in=row.get("heatmaps_opt_in"))
             for row in rows]
    owners = defaultdict(dict)
    for team in teams:
        for token in team.tokens():
            owners[token][team.id] = team
    return {token: next(iter(by_id.values())) for token, by_id in owners.items() if len(by_id) == 1}


# ---------------------------------------------------------------------------------------------
# Input messages (src/files/envelope.cpp)


@dataclass
class Message:
    topic: str = INPUT_TOPIC
    partition: int = 0
    offset: int = 0
    key: str | None = None
    headers: list = field(default_factory=list)  # [(name, value or None)]
    value: str | None = None

    def header(self, name):
        """The first header `name` with a value: a null or empty value means absent (SPEC §2)."""
        for header_name, value in self.headers:
            if header_name == name and value:
                return value
        return None


def is_int(value, bits):
    return type(value) is int and -2**(bits - 1) <= value < 2**(bits - 1)


def read_envelope(doc):
    """A kcat -J envelope as a Message, or None when a field has the wrong type."""
    def optional_string(name):
        value = doc.get(name)
        if value is not None and not isinstance(value, str):
            raise TypeError(name)
        return value

    try:
        topic = optional_string("topic")
        message = Message(topic=INPUT_TOPIC if topic is None else topic, key=optional_string("key"),
                          value=optional_string("payload"))
    except TypeError:
        return None
    if "partition" in doc:
        if not is_int(doc["partition"], 32):
            return None
        message.partition = doc["partition"]
    if "offset" in doc:
        if not is_int(doc["offset"], 64):
            return None
        message.offset = doc["offset"]
    headers = doc.get("headers")
    if headers is not None:
        if not isinstance(headers, list) or len(headers) % 2:
            return None
        for name, value in zip(headers[::2], headers[1::2]):
            if not isinstance(name, str) or not (value is None or isinstance(value, str)):
                return None
            message.headers.append((name, value))
    return message


def parse_input_line(line, index):
    """An envelope when the line is a JSON object with a `payload`; otherwise the line is a value."""
    try:
        doc = parse_json(line)
    except (ValueError, RecursionError):
        doc = None
    if isinstance(doc, dict) and "payload" in doc:
        message = read_envelope(doc)
        if message is not None:
            return message
    return Message(offset=index, value=line)


def input_lines(path):
    """(index, line) of each message line: blank lines are skipped but counted (bare offsets)."""
    with open(path, "rb") as f:
        for index, raw in enumerate(f):
            raw = raw.removesuffix(b"\n").removesuffix(b"\r")
            if raw.strip(b" \t"):
                yield index, raw.decode(ENCODING, RAW)


# ---------------------------------------------------------------------------------------------
# Secrets (SPEC §5; secret_redaction.cpp): the resolving team's secrets whatever they look like,
# and anything shaped like a secret or personal key, whoever owns it.


def holds_secret(text, secrets):
    return any(secret in text for secret in secrets) or KEY_RE.search(text) is not None


def json_holds_secret(json_text, secrets):
    """holds_secret on JSON text, where each secret shows as json.dumps writes it in a string."""
    return holds_secret(json_text, [to_json(secret)[1:-1] for secret in secrets])


def redact_text(text, secrets):
    """Each secret or key in `text` replaced: the earliest match first, at one position the longest."""
    pieces, done = [], 0
    while True:
        matches = []  # (start, -size): min() picks the earliest, then the longest
        for secret in secrets:
            start = text.find(secret, done)
            if start >= 0:
                matches.append((start, -len(secret)))
        key = KEY_RE.search(text, done)
        if key:
            matches.append((key.start(), -len(key.group())))
        if not matches:
            break
        start, minus_size = min(matches)
        pieces += [text[done:start], REDACTED]
        done = start - minus_size
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def redact_tree(value, secrets):
    """Secrets redacted from every string and member name of a JSON value."""
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, list):
        return [redact_tree(item, secrets) for item in value]
    if isinstance(value, dict):
        return {redact_text(name, secrets): redact_tree(item, secrets) for name, item in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# Decoding (SPEC §2)


def parse_value(text, what="value"):
    """The JSON object of a message value (or of its `data` string), or a dead letter."""
    try:
        value = parse_json(text, MAX_JSON_DEPTH)
    except (ValueError, RecursionError):
        raise DeadLetter("failed_parse_message", f"{what} is not valid JSON (or nests too deep)") from None
    if not isinstance(value, dict):
        raise DeadLetter("failed_parse_message", f"{what} is not a JSON object")
    return value


@dataclass
class Event:
    """The merged event: the client's `data` overlaid by the outer capture fields."""
    outer: dict
    data: dict
    uuid: str
    event: str
    distinct_id: str
    properties: dict | None
    set: dict | None
    set_once: dict | None
    ip: object
    timestamp: object
    now: object
    sent_at: object


def decode_event(outer):
    data = outer.get("data")
    if isinstance(data, str):
        data = parse_value(data, "data")
    if not isinstance(data, dict):
        raise DeadLetter("failed_parse_message", "data is not a JSON object")

    def merged(name):  # outer wins, even with a null; null means absent
        return outer[name] if name in outer else data.get(name)

    properties, set_, set_once = merged("properties"), merged("$set"), merged("$set_once")
    if any(v is not None and not isinstance(v, dict) for v in (properties, set_, set_once)):
        raise DeadLetter("failed_parse_message", "properties, $set and $set_once must be objects")
    if properties is not None and any(v is not None and not isinstance(v, dict)
                                      for v in (properties.get("$set"), properties.get("$set_once"))):
        raise DeadLetter("failed_parse_message", "properties.$set and $set_once must be objects")
    event = stringify(merged("event"))
    if event is None:
        raise DeadLetter("failed_parse_message", "event must be a string")
    distinct_id = stringify(merged("distinct_id"))
    if distinct_id is None:
        raise DeadLetter("failed_parse_message", "distinct_id must be a string")
    event_uuid = merged("uuid")
    if event_uuid is None or event_uuid == "":
        raise DeadLetter("empty_uuid", "uuid is missing or empty")
    if not isinstance(event_uuid, str) or not UUID_RE.fullmatch(event_uuid):
        raise DeadLetter("invalid_uuid", "uuid is not a valid UUID")
    # A reader that stops at NUL would see another id or name; keys and routing use the same text.
    return Event(outer=outer, data=data, uuid=event_uuid, event=event.replace("\0", "\ufffd"),
                 distinct_id=distinct_id.replace("\0", "\ufffd"), properties=properties, set=set_,
                 set_once=set_once, ip=merged("ip"), timestamp=merged("timestamp"), now=merged("now"),
                 sent_at=merged("sent_at"))


# ---------------------------------------------------------------------------------------------
# Verification (SPEC §4): was a `$verified` sent anywhere a reader could take it for the flag?


def holds_verified(value):
    """A `$verified` key of an object, or a `$verified` element of an array ($unset's forms)."""
    if isinstance(value, dict):
        return any(is_verified(name) for name in value)
    if isinstance(value, list):
        return any(isinstance(item, str) and is_verified(item) for item in value)
    return False


def properties_hold_verified(properties):
    if not isinstance(properties, dict):
        return False
    person = ("$set", "$set_once", "$unset")
    return any(is_verified(name) or (shown_name(name) in person and holds_verified(value))
               for name, value in properties.items())


def event_holds_verified(obj):
    for name, value in obj.items():
        shown = shown_name(name)
        if (shown == "$verified" or (shown == "properties" and properties_hold_verified(value))
                or (shown in ("$set", "$set_once") and holds_verified(value))):
            return True
    return False


def has_client_verified(event):
    # Both the outer object and the client's event: the outer `properties` replaces the inner one,
    # but a reader of the client's event would still see the inner one.
    if event_holds_verified(event.outer) or event_holds_verified(event.data):
        return True
    for name, value in event.outer.items():  # a NUL-disguised `data` a reader could take instead
        if name != "data" and shown_name(name) == "data":
            if isinstance(value, str):
                try:
                    value = parse_json(value, MAX_JSON_DEPTH)
                except (ValueError, RecursionError):
                    continue
            if isinstance(value, dict) and event_holds_verified(value):
                return True
    return False


# ---------------------------------------------------------------------------------------------
# Rendering (SPEC §2 merge, §4, §5): the enriched events as dicts.


def without_verified(obj):
    return {name: value for name, value in obj.items() if not is_verified(name)}


def identity(event, team, event_uuid, event_name):
    out = {"uuid": event_uuid, "event": event_name, "distinct_id": event.distinct_id,
           "team_id": team.id, "project_id": team.project_id}
    # Capture already corrected the timestamp for client clock skew; without one, use `now`.
    timestamp = event.timestamp if event.timestamp is not None else event.now
    if timestamp is not None:
        out["timestamp"] = timestamp
    if event.now is not None:
        out["now"] = event.now
    if event.sent_at is not None:
        out["sent_at"] = event.sent_at
    return out


def render_properties(event, team, verified, drop_heatmap_data):
    strip = not verified
    props = {}
    inner_set = inner_set_once = client_ip = client_sent_at = None
    for name, value in (event.properties or {}).items():
        if not name.startswith("$"):
            props[name] = value
        elif name == "$set":
            inner_set = value
        elif name == "$set_once":
            inner_set_once = value
        elif name == "$ip":
            client_ip = value
        elif name == "$sent_at":
            client_sent_at = value
        elif is_verified(name) or is_disguised_special_property(name) or (
                name == "$heatmap_data" and drop_heatmap_data):
            continue
        elif name == "$unset" and strip:
            if isinstance(value, list):
                value = [item for item in value if not (isinstance(item, str) and is_verified(item))]
            elif isinstance(value, dict):
                value = without_verified(value)
            props[name] = value
        else:
            props[name] = value
    if inner_set is not None or event.set is not None:  # top-level $set wins over properties.$set
        merged = {**(inner_set or {}), **(event.set or {})}
        props["$set"] = without_verified(merged) if strip else merged
    if inner_set_once is not None or event.set_once is not None:  # properties.$set_once wins
        merged = {**(event.set_once or {}), **(inner_set_once or {})}
        props["$set_once"] = without_verified(merged) if strip else merged
    if not team.anonymize_ips:
        ip = client_ip if truthy(client_ip) else event.ip if truthy(event.ip) else None
        if ip is not None:
            props["$ip"] = ip
    sent_at = event.sent_at if event.sent_at is not None else client_sent_at
    if sent_at is not None:
        props["$sent_at"] = sent_at
    if verified:
        props["$verified"] = True
    return props


def other_fields(event, strip):
    """The other top-level fields of the merged event: the client's, then the outer ones (which win)."""
    fields = {}
    for name, value in event.data.items():
        if not is_reserved_top_level(name) and (name == "data" or name not in event.outer):
            fields[name] = value
    for name, value in event.outer.items():
        if not is_reserved_top_level(name) and name != "data":
            fields[name] = value
    if strip:
        for name in ("$set", "$set_once"):
            if isinstance(fields.get(name), dict):
                fields[name] = without_verified(fields[name])
    return fields


def render_event(event, team, verified, drop_heatmap_data):
    out = identity(event, team, event.uuid, event.event)
    out["properties"] = render_properties(event, team, verified, drop_heatmap_data)
    out.update(other_fields(event, strip=not verified))
    return out


def render_heatmap_event(event, team, verified, heatmap_uuid):
    out = identity(event, team, heatmap_uuid, "$$heatmap")
    props = {name: event.properties[name] for name in HEATMAP_PROPERTIES if name in event.properties}
    if verified:
        props["$verified"] = True
    out["properties"] = props
    return out


# ---------------------------------------------------------------------------------------------
# Outputs (message_outputs.cpp)


@dataclass
class Record:
    destination: str
    key: str | None
    headers: list  # [(name, value or None)]
    value: str | None

    def wire_size(self):
        size = BATCH_OVERHEAD + nbytes(self.key or "") + nbytes(self.value or "")
        return size + sum(header_size(name, value) for name, value in self.headers)


def header_size(name, value):
    return HEADER_OVERHEAD + nbytes(name) + nbytes(value or "")


def input_wire_size(message):
    return Record("input", message.key, message.headers, message.value).wire_size()


@dataclass
class Outcome:
    records: list = field(default_factory=list)
    drop: str | None = None
    dead_letter: str | None = None
    verification: str = "none"  # or "verified", "stripped"
    redacted: bool = False


def clean_text(text, team, outcome):
    """Output text: UTF-8 repaired, secrets redacted."""
    text = repaired_utf8(text)
    if holds_secret(text, team.secrets()):
        text = redact_text(text, team.secrets())
        outcome.redacted = True
    return text


def output_headers(message, team, verified, heatmap_uuid, outcome):
    """The input headers but token (and warden's own), then team_id and verified (SPEC §5)."""
    headers = []
    for name, value in message.headers:
        if is_reserved_header(name, heatmap_uuid is not None):
            continue
        headers.append((clean_text(name, team, outcome),
                        None if value is None else clean_text(value, team, outcome)))
    if heatmap_uuid is not None:  # the split-off event's own name and id
        headers += [("event", "$$heatmap"), ("uuid", heatmap_uuid)]
    headers += [("team_id", str(team.id)), ("verified", "true" if verified else "false")]
    return headers


def output_record(destination, json_text, distinct_id, message, team, verified, heatmap_uuid, outcome):
    if nbytes(json_text) > MAX_MESSAGE_BYTES:  # cannot fit, whatever follows
        raise DeadLetter("message_too_large", "an output event exceeds the size limit")
    # The key keeps a user's events on one partition whichever token kind sent them.
    key = clean_text(f"{team.id}:{distinct_id}", team, outcome)
    record = Record(destination, key, output_headers(message, team, verified, heatmap_uuid, outcome),
                    repaired_utf8(json_text))
    if record.wire_size() > MAX_MESSAGE_BYTES:  # counted on the final bytes, as a broker does
        raise DeadLetter("message_too_large", "an output event exceeds the size limit")
    return record


def dead_letter_record(message, reason, detail):
    """The original key, value and headers, byte for byte, plus the dlq_* headers (SPEC §6)."""
    headers = list(message.headers) + [
        ("dlq_reason", reason),
        ("dlq_step", DLQ_STEPS[reason]),
        ("dlq_error", detail),
        ("dlq_timestamp", str(int(time.time() * 1000))),
        ("dlq_topic", cut_bytes(message.topic, MAX_TOPIC_BYTES)),
        ("dlq_partition", str(message.partition)),
        ("dlq_offset", str(message.offset)),
    ]
    record = Record("dead_letter", message.key, headers, message.value)
    fit_dead_letter(record, len(message.headers))
    return record


def fit_dead_letter(record, original_headers):
    """Cuts a dead letter that exceeds the limit: original headers get up to a quarter of the room,
    the key a quarter, the value the rest (its start); two headers say so."""
    original = record.wire_size()
    if original <= MAX_MESSAGE_BYTES:
        return
    dlq_headers = record.headers[original_headers:] + [("dlq_truncated", "true"),
                                                       ("dlq_original_bytes", str(original))]
    fixed = BATCH_OVERHEAD + sum(header_size(name, value) for name, value in dlq_headers)
    room = max(MAX_MESSAGE_BYTES - fixed, 0)
    header_room = room // 4
    kept = []
    for name, value in record.headers[:original_headers]:
        size = header_size(name, value)
        if size <= header_room:
            header_room -= size
            room -= size
            kept.append((name, value))
    if record.key is not None:
        record.key = cut_bytes(record.key, room // 4)
        room -= nbytes(record.key)
    if record.value is not None:
        record.value = cut_bytes(record.value, room)
    record.headers = kept + dlq_headers


# ---------------------------------------------------------------------------------------------
# The pipeline, one message at a time


def find_token(message):
    """("missing" | "invalid" | "candidate" | "unreadable", token, parsed value or None).

    The token header, else the value's `token` field (SPEC §3.1): the value is parsed for it then,
    and the parse is kept for decoding.
    """
    token = message.header("token")
    if token is None:
        if message.value is None or nbytes(message.value) > MAX_MESSAGE_BYTES:
            return "unreadable", None, None  # dead-lettered unparsed
        try:
            outer = parse_value(message.value)
        except DeadLetter:
            return "unreadable", None, None
        token = outer.get("token")
        if token is None or token == "":
            return "missing", None, outer
        if not isinstance(token, str):
            return "invalid", None, outer
    else:
        outer = None
    # Refused without a lookup: not 1-64 printable ASCII characters, or a personal API key.
    if not TOKEN_RE.fullmatch(token) or token.startswith("phx_"):
        return "invalid", None, outer
    return "candidate", token, outer


def process_message(message, teams):
    outcome = Outcome()
    try:
        run_stages(message, teams, outcome)
    except DeadLetter as failure:
        # A dead letter replaces any output of the message.
        outcome = Outcome(records=[dead_letter_record(message, failure.reason, failure.detail)],
                          dead_letter=failure.reason)
    return outcome


def run_stages(message, teams, outcome):
    # Team resolution first: malformed messages of unknown senders are dropped, not dead-lettered.
    status, token, outer = find_token(message)
    if status == "missing":
        outcome.drop = "no_token"
        return
    if status == "invalid":
        outcome.drop = "invalid_token"
        return
    team = teams.get(token) if status == "candidate" else None
    if status == "candidate" and team is None:
        outcome.drop = "invalid_token"
        return

    # Decoding: nothing larger than the limit is parsed.
    if message.value is None:
        raise DeadLetter("failed_parse_message", "message has no value")
    if input_wire_size(message) > MAX_MESSAGE_BYTES:
        raise DeadLetter("message_too_large", "the input message exceeds the size limit")
    if outer is None:
        outer = parse_value(message.value)
    event = decode_event(outer)
    if team is None:
        outcome.drop = "no_token"
        return

    # Verification and routing.
    verified = team.is_secret(token)
    verification = "verified" if verified else "stripped" if has_client_verified(event) else "none"
    destination = {"$exception": "error_tracking", "$$heatmap": "heatmaps"}.get(event.event, "analytics")
    heatmaps_allowed = team.heatmaps_opt_in is not False  # null means allowed
    if destination == "heatmaps" and not heatmaps_allowed:
        outcome.drop = "heatmap_opt_in_disabled"
        return
    split_heatmap = (destination != "heatmaps" and event.properties is not None
                     and "$heatmap_data" in event.properties
                     and message.header("skip_heatmap_processing") != "true")
    emit_heatmap = split_heatmap and heatmaps_allowed

    # Rendering, redacted when a secret would reach the output.
    heatmap_uuid = str(uuid.uuid5(HEATMAP_NAMESPACE, "$$heatmap:" + event.uuid)) if emit_heatmap else None
    outputs = [(destination, render_event(event, team, verified, split_heatmap), None)]
    if emit_heatmap:
        outputs.append(("heatmaps", render_heatmap_event(event, team, verified, heatmap_uuid), heatmap_uuid))
    texts = [to_json(out) for _, out, _ in outputs]
    distinct_id = event.distinct_id
    secrets = team.secrets()
    if any(json_holds_secret(text, secrets) for text in texts):
        outputs = [(where, redact_tree(out, secrets), hm_uuid) for where, out, hm_uuid in outputs]
        texts = [to_json(out) for _, out, _ in outputs]
        distinct_id = redact_text(distinct_id, secrets)
        outcome.redacted = True

    outcome.verification = verification
    for (where, _, hm_uuid), text in zip(outputs, texts):
        record = output_record(where, text, distinct_id, message, team, verified, hm_uuid, outcome)
        outcome.records.append(record)
    if split_heatmap and not emit_heatmap:
        outcome.drop = "heatmap_opt_in_disabled"  # the analytics part still goes out


# ---------------------------------------------------------------------------------------------


def envelope_line(record):
    headers = [item for header in record.headers for item in header]
    line = to_json({"topic": TOPICS[record.destination], "key": record.key, "headers": headers,
                    "payload": record.value})
    return (line + "\n").encode(ENCODING, RAW)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", required=True, help="JSON array of teams (SPEC §1)")
    parser.add_argument("--input", required=True, help="one message per line: kcat -J envelope or bare value")
    parser.add_argument("--output-dir", required=True, help="receives <topic>.jsonl files")
    args = parser.parse_args()

    teams = load_teams(args.teams)
    os.makedirs(args.output_dir, exist_ok=True)
    # Every topic's file is emptied first, so a reused directory never mixes runs.
    files = {dest: open(os.path.join(args.output_dir, topic + ".jsonl"), "wb")
             for dest, topic in TOPICS.items()}
    consumed, verified, stripped, redacted = 0, 0, 0, 0
    produced = dict.fromkeys(TOPICS, 0)
    dropped = dict.fromkeys(DROP_CAUSES, 0)
    dead_letters = dict.fromkeys(DLQ_REASONS, 0)
    for index, line in input_lines(args.input):
        outcome = process_message(parse_input_line(line, index), teams)
        consumed += 1
        for record in outcome.records:
            files[record.destination].write(envelope_line(record))
            produced[record.destination] += 1
        if outcome.drop:
            dropped[outcome.drop] += 1
        if outcome.dead_letter:
            dead_letters[outcome.dead_letter] += 1
        verified += outcome.verification == "verified"
        stripped += outcome.verification == "stripped"
        redacted += outcome.redacted
    for f in files.values():
        f.close()

    summary = {
        "consumed": consumed,
        "produced": {TOPICS[dest]: n for dest, n in produced.items() if n},
        "dropped": {cause: n for cause, n in dropped.items() if n},
        "dlq": {reason: n for reason, n in dead_letters.items() if n},
        "verified": verified,
        "stripped": stripped,
        "redacted": redacted,
    }
    print(to_json(summary))


if __name__ == "__main__":
    sys.exit(main())
