#!/usr/bin/env python3
"""Meadow buyer client: list datasets, download and verify them, read the records.

Standard library only (urllib, hashlib, json). Reading zstd files needs the `zstd` program
(Debian package zstd), run as a child process, because Python's standard library before 3.14
has no zstd codec.

    meadow_buyer.py --api http://127.0.0.1:8480 --key KEY datasets
    meadow_buyer.py --api ... --key KEY download 7 --out ./dataset-7
    meadow_buyer.py --api ... --key KEY records 7 --since 0
    meadow_buyer.py --api ... --key KEY submit job.json

`download` resumes a partly downloaded shard with a Range request, then checks every shard's
SHA-256, the Merkle root over the records, and the coordinator's Ed25519 signature of the
manifest. When the job asked for raw captures it also fetches each shard's WARC file and checks
its SHA-256, every WARC record's block and payload digests, and that each captured body is the
one its record's signed body_sha256 names. It prints what it checked and exits non-zero when
anything does not match.
"""

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import urllib.error
import urllib.request

# --- Ed25519 verification (RFC 8032, section 5.1.7), written out over Python integers.

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _x_from_y(y, sign):
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x2 = u * pow(v, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if x & 1 != sign:
        x = _P - x
    return x


def _point(x, y):
    return (x, y, 1, x * y % _P)  # extended coordinates (X, Y, Z, T)


def _add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * _D * p[3] * q[3] % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _times(n, p):
    acc = (0, 1, 1, 0)
    while n:
        if n & 1:
            acc = _add(acc, p)
        p = _add(p, p)
        n >>= 1
    return acc


def _same(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def _decode_point(raw):
    if len(raw) != 32:
        return None
    n = int.from_bytes(raw, "little")
    y, sign = n & ((1 << 255) - 1), n >> 255
    if y >= _P:
        return None
    x = _x_from_y(y, sign)
    return None if x is None else _point(x, y)


_BASE = _point(_x_from_y(4 * pow(5, _P - 2, _P) % _P, 0), 4 * pow(5, _P - 2, _P) % _P)


def ed25519_verify(public_key, message, signature):
    """True when `signature` (64 bytes) is `public_key`'s (32 bytes) signature of `message`."""
    if len(signature) != 64:
        return False
    a, r = _decode_point(public_key), _decode_point(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % _L
    return _same(_times(s, _BASE), _add(r, _times(h, a)))


# --- canonical JSON, byte for byte as the coordinator signs it: keys sorted, no whitespace,
# integers as digits, other numbers in the shorter of plain and exponent form (C++ to_chars).


def _number(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if math.isnan(v) or math.isinf(v):
        return "null"
    sign = "-" if math.copysign(1.0, v) < 0 else ""
    if v == 0:
        return sign + "0"
    mant, _, exp = repr(abs(v)).partition("e")  # repr: the shortest digits that read back
    whole, _, frac = mant.partition(".")
    digits = whole + frac
    point = len(whole) + (int(exp) if exp else 0)  # value = 0.DIGITS x 10^point
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    if point >= len(digits):
        fixed = str(int(abs(v)))  # a whole number is printed with its exact digits
    elif point > 0:
        fixed = digits[:point] + "." + digits[point:]
    else:
        fixed = "0." + "0" * (-point) + digits
    e = point - 1
    sci = digits[0] + ("." + digits[1:] if len(digits) > 1 else "") + ("e-" if e < 0 else "e+") + "%02d" % abs(e)
    return sign + (fixed if len(fixed) <= len(sci) else sci)


def canonical_json(v):
    if isinstance(v, dict):
        items = sorted(v.items(), key=lambda kv: kv[0].encode("utf-8"))
        return "{" + ",".join(canonical_json(k) + ":" + canonical_json(x) for k, x in items) + "}"
    if isinstance(v, list):
        return "[" + ",".join(canonical_json(x) for x in v) + "]"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if v is None:
        return "null"
    return _number(v)


def merkle_root(record_hashes):
    """RFC 6962 Merkle Tree Hash over the records' SHA-256 hashes (bytes), as hex."""
    def mth(items):
        if len(items) == 1:
            return hashlib.sha256(b"\x00" + items[0]).digest()
        k = 1
        while k * 2 < len(items):
            k *= 2
        return hashlib.sha256(b"\x01" + mth(items[:k]) + mth(items[k:])).digest()
    if not record_hashes:
        return hashlib.sha256(b"").hexdigest()
    return mth(record_hashes).hex()


# --- the API


class Api:
    def __init__(self, base, key):
        self.base = base.rstrip("/")
        self.key = key

    def request(self, path, data=None, headers=None, method=None):
        h = {"Authorization": "Bearer " + self.key}
        h.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, headers=h, method=method)
        return urllib.request.urlopen(req, timeout=60)

    def json(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        with self.request(path, data, {"Content-Type": "application/json"} if data else None) as r:
            return json.load(r)


def zstd_bytes(path):
    """A zstd file's content, via the zstd program."""
    try:
        return subprocess.run(["zstd", "-dcq", path], check=True, capture_output=True).stdout
    except FileNotFoundError:
        sys.exit("reading .zst files needs the zstd program (apt-get install zstd)")


def zstd_lines(path):
    """The lines of a zstd NDJSON file."""
    out = zstd_bytes(path)
    return out.split(b"\n")[:-1] if out.endswith(b"\n") else out.split(b"\n")


def _b32_sha256(data):
    import base64
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode("ascii")


def warc_records(data):
    """(fields, block) of each record of an uncompressed WARC file; raises ValueError when the
    file is not well formed."""
    at = 0
    while at < len(data):
        end = data.find(b"\r\n\r\n", at)
        if end < 0 or not data.startswith(b"WARC/1.1\r\n", at):
            raise ValueError("no WARC/1.1 record at byte %d" % at)
        fields = {}
        for line in data[at:end].split(b"\r\n")[1:]:
            name, _, value = line.decode("utf-8").partition(":")
            fields[name.strip().lower()] = value.strip()
        length = int(fields["content-length"])
        block = data[end + 4:end + 4 + length]
        if len(block) != length or data[end + 4 + length:end + 8 + length] != b"\r\n\r\n":
            raise ValueError("record at byte %d is cut short" % at)
        yield fields, block
        at = end + 8 + length


def check_captures(path, body_sha256_by_url):
    """Checks a captures file; returns (response records, problems)."""
    problems, responses = [], 0
    try:
        for fields, block in warc_records(zstd_bytes(path)):
            if fields.get("warc-block-digest") != _b32_sha256(block):
                problems.append("block digest of %s" % fields.get("warc-record-id"))
            if fields.get("warc-type") != "response":
                continue
            responses += 1
            payload = block[block.find(b"\r\n\r\n") + 4:]
            if fields.get("warc-payload-digest") != _b32_sha256(payload):
                problems.append("payload digest of %s" % fields.get("warc-target-uri"))
            if body_sha256_by_url.get(fields.get("warc-target-uri")) != hashlib.sha256(payload).hexdigest():
                problems.append("%s is not the body its record names" % fields.get("warc-target-uri"))
    except (ValueError, KeyError) as e:
        problems.append(str(e))
    return responses, problems


def download_file(api, path, dest, expect_sha):
    """Downloads to dest, resuming a partial dest.part with Range; returns the SHA-256 hex."""
    part = dest + ".part"
    have = os.path.getsize(part) if os.path.exists(part) else 0
    headers = {"Range": "bytes=%d-" % have} if have else {}
    if expect_sha and have:
        headers["If-Range"] = '"%s"' % expect_sha
    try:
        resp = api.request(path, headers=headers)
    except urllib.error.HTTPError as e:
        if e.code != 416:
            raise
        resp = None  # the part is already whole
    if resp is not None:
        with resp:
            mode = "ab" if resp.status == 206 else "wb"
            with open(part, mode) as f:
                while True:
                    chunk = resp.read(1 << 20)
                    if not chunk:
                        break
                    f.write(chunk)
    digest = hashlib.sha256()
    with open(part, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    os.replace(part, dest)
    return digest.hexdigest()


def verify_manifest(manifest, expected_key_b64=None):
    import base64
    body = {k: v for k, v in manifest.items() if k != "signature"}
    key = base64.b64decode(manifest["coordinator_key"])
    if expected_key_b64 and base64.b64decode(expected_key_b64) != key:
        return False
    return ed25519_verify(key, canonical_json(body).encode("utf-8"), base64.b64decode(manifest["signature"]))


def cmd_download(api, args):
    os.makedirs(args.out, exist_ok=True)
    base = "/v1/datasets/%d" % args.dataset
    with api.request(base + "/manifest.json") as r:
        raw = r.read()
    manifest = json.loads(raw)
    with open(os.path.join(args.out, "manifest.json"), "wb") as f:
        f.write(raw)
    coordinator = api.json("/v1/coordinator-key")
    ok = verify_manifest(manifest, coordinator["key"])
    print("manifest signature: %s (key %s)" % ("valid" if ok else "INVALID", manifest["coordinator_key_id"]))
    hashes = []

    def fetch(entry):
        dest = os.path.join(args.out, entry["name"])
        if os.path.exists(dest) and not args.force:
            digest = hashlib.sha256(open(dest, "rb").read()).hexdigest()
        else:
            digest = download_file(api, base + "/shards/" + entry["name"], dest, entry["sha256"])
        return dest, digest == entry["sha256"]

    for shard in manifest["shards"]:
        dest, good = fetch(shard)
        ok &= good
        lines = zstd_lines(dest)
        good_count = len(lines) == shard["records"]
        ok &= good_count
        hashes.extend(hashlib.sha256(line).digest() for line in lines)
        print("%s: %d records, sha256 %s" % (shard["name"], len(lines), "ok" if good and good_count else "MISMATCH"))
        if "captures" in shard:
            dest, good = fetch(shard["captures"])
            bodies = {}
            for line in lines:
                rec = json.loads(line)
                bodies[rec.get("final_url", rec.get("url"))] = rec.get("body_sha256")
            responses, problems = check_captures(dest, bodies)
            ok &= good and not problems
            print("%s: %d captured responses, sha256 %s, digests %s" % (
                shard["captures"]["name"], responses, "ok" if good else "MISMATCH",
                "ok" if not problems else "MISMATCH: " + "; ".join(problems[:3])))
    root = merkle_root(hashes)
    ok &= root == manifest["merkle"]["root"]
    print("merkle root: %s (%s)" % (root, "ok" if root == manifest["merkle"]["root"] else "MISMATCH"))
    print("dataset %d: %d records in %d shards %s" % (args.dataset, len(hashes), len(manifest["shards"]),
                                                     "verified" if ok else "FAILED verification"))
    return 0 if ok else 1


def cmd_records(api, args):
    path = "/v1/datasets/%d/records?since=%d&limit=%d" % (args.dataset, args.since, args.limit)
    with api.request(path) as r:
        body = r.read()
        cursor = r.headers.get("meadow-next-cursor")
    out = subprocess.run(["zstd", "-dcq"], input=body, check=True, capture_output=True).stdout
    for line in out.splitlines():
        rec = json.loads(line)
        print(json.dumps({"url": rec.get("url"), "title": rec.get("title"), "chars": len(rec.get("text", ""))}))
    print("next cursor: %s" % cursor, file=sys.stderr)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--api", default=os.environ.get("MEADOW_API", "http://127.0.0.1:8480"))
    p.add_argument("--key", default=os.environ.get("MEADOW_KEY"), help="API key (or MEADOW_KEY)")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("datasets", help="list your datasets")
    d = sub.add_parser("download", help="download a dataset and verify it")
    d.add_argument("dataset", type=int)
    d.add_argument("--out", default=".")
    d.add_argument("--force", action="store_true", help="download shards that are already here")
    r = sub.add_parser("records", help="records newer than a cursor")
    r.add_argument("dataset", type=int)
    r.add_argument("--since", type=int, default=0)
    r.add_argument("--limit", type=int, default=1000)
    s = sub.add_parser("submit", help="submit a job from a JSON file")
    s.add_argument("file")
    j = sub.add_parser("job", help="a job's progress")
    j.add_argument("job", type=int)
    args = p.parse_args(argv)
    if not args.key:
        p.error("give an API key with --key or MEADOW_KEY")
    api = Api(args.api, args.key)
    try:
        if args.cmd == "datasets":
            print(json.dumps(api.json("/v1/datasets"), indent=2))
            return 0
        if args.cmd == "download":
            return cmd_download(api, args)
        if args.cmd == "records":
            return cmd_records(api, args)
        if args.cmd == "submit":
            print(json.dumps(api.json("/v1/jobs", json.load(open(args.file))), indent=2))
            return 0
        if args.cmd == "job":
            print(json.dumps(api.json("/v1/jobs/%d" % args.job), indent=2))
            return 0
    except urllib.error.HTTPError as e:
        detail = e.read().decode("utf-8", "replace")
        print("HTTP %d: %s" % (e.code, detail), file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
