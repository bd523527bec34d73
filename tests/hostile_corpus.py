"""Hostile input for tests/test_hostile_input.py: what a fuzzer or an attacker sends, grouped by where it goes.

Every value here once made, or could make, some route answer 500: malformed
cookies and headers, broken multipart, deep and huge JSON, bytes that are not
UTF-8, NUL and control characters, digits that are not ASCII, integers no
column holds, lying file names and types, and script in every text field.
"""

from __future__ import annotations

import struct
import zlib

SCRIPT = "<script>alert(1)</script>"
UNICODE_DIGITS = [
    "¹", "²", "³", "¹²³", "⁰", "٠", "١٢٣", "٣", "۴۲", "५", "১", "๓", "១", "１２", "①", "𝟘", "߁", "᠑", "፩", "²⁰²⁴",
]  # fmt: skip
HUGE_INTEGERS = ["99999999999", "2147483648", "9223372036854775808", "99999999999999999999999", "9" * 5000]
ODD_INTEGERS = ["-1", "0", "+1", " 1", "1 ", "1.5", "1e3", "0x10", "00000000000000000000001", "NaN", "∞"]
TEXTS = [
    SCRIPT,
    '"><img src=x onerror=alert(1)>',
    "{{7*7}}{% raw %}",
    "'; DROP TABLE service_request; --",
    "a\x00b",
    "\x01\x02\x1b[31m\x7f",
    "\u202efdp.exe",
    "\ufeff\u200b",
    "\ud7ff\U0010ffff",
    "../../../etc/passwd",
    "%00%ff%fe",
    "a" * 5000,
    "é" * 3000,
    "",
    " ",
    "\r\nSet-Cookie: injected=1",
    "%2e%2e%2f%2e%2e%2f",
    "\\\\server\\share",
    "CON",
    "null",
    "undefined",
    "[]",
    "{}",
    "e\u0301\u0301\u0301\u0301",
    "javascript:alert(1)",
    "//evil.example/",
    "https://evil.example/",
    "\u2028\u2029",
    "ﷺ" * 100,
    "😀" * 1000,
]
#: values for path and query parameters
PARAMETER_VALUES = UNICODE_DIGITS + HUGE_INTEGERS + ODD_INTEGERS + [t for t in TEXTS if t and "\x00" not in t]


def _cookie(value: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"cookie", value)]


HEADER_SETS: dict[str, list[tuple[bytes, bytes]]] = {
    "cookie-reserved-name": _cookie(b"a=1; $x=1"),
    "cookie-dollar-version": _cookie(b"$Version=1; a=1"),
    "cookie-not-utf8": _cookie(b"a=\xff\xfe"),
    "cookie-latin1": _cookie(b"guichet_csrf=\xe9t\xe9"),
    "cookie-unterminated-quote": _cookie(b'a="unterminated'),
    "cookie-only-separators": _cookie(b";;;==;"),
    "cookie-empty-name": _cookie(b"=1"),
    "cookie-control": _cookie(b"a=\x01\x02"),
    "cookie-huge": _cookie(b"a=" + b"x" * 7000),
    "cookie-many": _cookie(b"; ".join(b"c%d=1" % n for n in range(500))),
    "cookie-session-garbage": _cookie(b"guichet_session=" + b"A" * 300),
    "cookie-session-script": _cookie(b"guichet_session=%3Cscript%3E"),
    "cookie-csrf-garbage": _cookie(b"guichet_csrf=not.a.token"),
    "cookie-lang-garbage": _cookie(b"guichet_lang=../../etc"),
    "cookie-two-headers": [(b"cookie", b"a=1"), (b"cookie", b"$x=1")],
    "csrf-header-latin1": [(b"x-csrftoken", b"\xe9")],
    "csrf-header-huge": [(b"x-csrftoken", b"x" * 5000)],
    "accept-language-garbage": [(b"accept-language", b"*;q=x, ;;, \xff\xfe, zz-ZZZZZZ")],
    "accept-language-huge": [(b"accept-language", b"fr," * 3000)],
    "accept-not-utf8": [(b"accept", b"\xff/\xfe")],
    "authorization-bearer-latin1": [(b"authorization", b"Bearer \xe9\xe9")],
    "authorization-bearer-huge": [(b"authorization", b"Bearer " + b"a" * 8000)],
    "authorization-bearer-empty": [(b"authorization", b"Bearer ")],
    "authorization-basic": [(b"authorization", b"Basic !!!")],
    "authorization-garbage": [(b"authorization", b"\x00\x01")],
    "idempotency-key-huge": [(b"idempotency-key", b"k" * 5000)],
    "idempotency-key-latin1": [(b"idempotency-key", b"\xe9\xff")],
    "forwarded-garbage": [(b"x-forwarded-for", b"\xff, not-an-ip, 999.999.1.1"), (b"forwarded", b"for=\xff")],
    "user-agent-control": [(b"user-agent", b"\x00\x1b[31m" + SCRIPT.encode())],
    "referer-garbage": [(b"referer", b"javascript:alert(1)"), (b"origin", b"null")],
    "content-type-garbage": [(b"content-type", b"\xff/\xfe; ;;=")],
    "content-length-unicode-digit": [(b"content-length", "¹".encode())],
}

BOUNDARY = "hostileboundary"


def multipart(*parts: bytes, boundary: str = BOUNDARY, close: bool = True) -> bytes:
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return body + (b"--" + boundary.encode() + b"--\r\n" if close else b"")


def field(name: bytes, value: bytes) -> bytes:
    return b'Content-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value


def file_part(name: bytes, filename: bytes, data: bytes, content_type: bytes = b"application/pdf") -> bytes:
    return (
        b'Content-Disposition: form-data; name="' + name + b'"; filename="' + filename + b'"\r\n'
        b"Content-Type: " + content_type + b"\r\n\r\n" + data
    )


def png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")
    )


MULTIPART_TYPE = f"multipart/form-data; boundary={BOUNDARY}".encode()
URLENCODED_TYPE = b"application/x-www-form-urlencoded"
JSON_TYPE = b"application/json"

#: (content type, body): malformed bodies, refused before anything is stored
BROKEN_BODIES: dict[str, tuple[bytes, bytes]] = {
    "multipart-no-boundary": (b"multipart/form-data", multipart(field(b"a", b"1"))),
    "multipart-empty-boundary": (b"multipart/form-data; boundary=", b"----\r\n"),
    "multipart-boundary-too-long": (b"multipart/form-data; boundary=" + b"b" * 200, b"x"),
    "multipart-boundary-bad-chars": (b"multipart/form-data; boundary=\xff\xfe", b"x"),
    "multipart-boundary-elsewhere": (b"multipart/form-data; charset=utf-8", b"x"),
    "multipart-garbage-body": (MULTIPART_TYPE, b"\x00\xff garbage"),
    "multipart-empty-body": (MULTIPART_TYPE, b""),
    "multipart-truncated": (MULTIPART_TYPE, multipart(field(b"a", b"1"), close=False)[:-5]),
    "multipart-unclosed": (MULTIPART_TYPE, multipart(field(b"a", b"1"), close=False)),
    "multipart-wrong-boundary": (MULTIPART_TYPE, multipart(field(b"a", b"1"), boundary="other")),
    "multipart-no-disposition": (MULTIPART_TYPE, multipart(b"Content-Type: text/plain\r\n\r\nhello")),
    "multipart-no-name": (MULTIPART_TYPE, multipart(b"Content-Disposition: form-data\r\n\r\nhello")),
    "multipart-header-no-colon": (MULTIPART_TYPE, multipart(b"Content-Disposition form-data\r\n\r\nx")),
    "multipart-field-not-utf8": (MULTIPART_TYPE, multipart(field(b"message", b"\xff\xfe\xc3"))),
    "multipart-name-not-utf8": (MULTIPART_TYPE, multipart(field(b"\xff", b"1"))),
    "multipart-token-not-utf8": (MULTIPART_TYPE, multipart(field(b"csrftoken", b"\xff"))),
    "multipart-token-latin1": (MULTIPART_TYPE, multipart(field(b"csrftoken", "é".encode()))),
    "multipart-token-empty": (MULTIPART_TYPE, multipart(field(b"csrftoken", b""))),
    "multipart-token-as-file": (MULTIPART_TYPE, multipart(file_part(b"csrftoken", b"t.pdf", b"%PDF-"))),
    "multipart-filename-5000": (MULTIPART_TYPE, multipart(file_part(b"document", b"a" * 5000 + b".pdf", b"x"))),
    "multipart-filename-not-utf8": (MULTIPART_TYPE, multipart(file_part(b"document", b"\xff\xfe.pdf", b"x"))),
    "multipart-header-huge": (MULTIPART_TYPE, multipart(b"X-Junk: " + b"j" * 20000 + b"\r\n" + field(b"a", b"1"))),
    "multipart-many-headers": (
        MULTIPART_TYPE,
        multipart(b"".join(b"X-%d: 1\r\n" % n for n in range(50)) + field(b"a", b"1")),
    ),
    "urlencoded-not-utf8": (URLENCODED_TYPE, b"message=\xff\xfe"),
    "urlencoded-escaped-not-utf8": (URLENCODED_TYPE, b"message=%ff%fe%c3"),
    "urlencoded-name-not-utf8": (URLENCODED_TYPE, b"%ff=1"),
    "urlencoded-token-latin1": (URLENCODED_TYPE, b"csrftoken=%C3%A9"),
    "urlencoded-token-not-utf8": (URLENCODED_TYPE, b"csrftoken=%E9"),
    "urlencoded-overlong-utf8": (URLENCODED_TYPE, b"message=%C0%BC"),
    "urlencoded-surrogate": (URLENCODED_TYPE, b"message=%ED%A0%80"),
}

#: JSON bodies, some malformed, some merely absurd: never a 500, never stored
JSON_BODIES: dict[str, bytes] = {
    "json-deep-arrays": b"[" * 100_000 + b"]" * 100_000,
    "json-deep-objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "json-huge-int": b'{"version": ' + b"9" * 5000 + b"}",
    "json-int-overflow": b'{"version": 99999999999999999999999, "staff_id": 9223372036854775808}',
    "json-int-2-31": b'{"version": 2147483648, "staff_id": 2147483648}',
    "json-negative": b'{"version": -1, "staff_id": -9223372036854775809}',
    "json-float-inf": b'{"version": 1e999}',
    "json-nan": b'{"version": NaN, "staff_id": Infinity}',
    "json-bool": b'{"version": true, "staff_id": false}',
    "json-not-utf8": b'{"message": "\xff\xfe"}',
    "json-lone-surrogate": b'{"message": "\\ud800", "fields": {"nom": "\\udfff"}}',
    "json-nul": b'{"message": "a\\u0000b", "comment": "\\u0000"}',
    "json-array": b"[1, 2, 3]",
    "json-string": b'"just a string"',
    "json-null": b"null",
    "json-empty": b"",
    "json-truncated": b'{"fields": {"nom": ',
    "json-duplicate-keys": b'{"version": 1, "version": "x"}',
    "json-wrong-types": b'{"fields": [], "version": "1", "staff_id": "1", "references": "x", "message": 1}',
    "json-references-huge": b'{"references": [' + b",".join([b'"x"'] * 5000) + b"]}",
    "json-unicode-digits": '{"version": "¹", "staff_id": "٣", "days": "²"}'.encode(),
    "json-huge-string": b'{"message": "' + b"a" * 200_000 + b'"}',
    "json-bom": b'\xef\xbb\xbf{"message": "x"}',
    "json-utf16": '{"message": "x"}'.encode("utf-16"),
}

#: the names of form fields the gateway's handlers read, so hostile values reach their parsing
FORM_FIELD_NAMES = [
    "days", "version", "staff_id", "assignee", "transition", "reason", "comment", "note", "message", "name",
    "email", "topic", "nom", "motif", "code", "username", "password", "scopes", "lang", "langue", "references",
    "document", "public_id", "reference", "older", "page", "q", "status", "suite", "next", "jeton",
]  # fmt: skip
