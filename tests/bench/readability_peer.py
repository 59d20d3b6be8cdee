#!/usr/bin/python3
"""The peer of bench_extract: readability-lxml (Debian's python3-readability) on the same pages.

For every html/NNNN.html.gz of the split it does what a main-content extractor does: decode
the bytes, let readability pick the article (Document(...).summary()), and turn the HTML it
returns into plain text with headings, paragraphs, list items and table rows on their own
lines. Only that work is timed (reading and gunzipping the file are not), on one thread, so
the figure compares with bench_extract's MB/s of decompressed HTML per core.

    /usr/bin/python3 readability_peer.py --split DIR --out PREDS.json

Writes PREDS.json (file id -> text, the format score-extraction reads) and prints one JSON
line on stdout: pages, errors, html_bytes, seconds (wall), cpu_s and the readability version.
Install the peer with `apt-get install python3-readability`.
"""

import argparse
import gzip
import json
import resource
import sys
import time
from pathlib import Path

import lxml.html
from readability import Document

try:
    from importlib.metadata import version as _dist_version

    READABILITY_VERSION = _dist_version("readability-lxml")
except Exception:  # the metadata is optional; the figures are not
    READABILITY_VERSION = "unknown"

# Elements whose text starts on a new line, and those set apart by a blank line.
LINE = {"div", "li", "tr", "dt", "dd", "br", "section", "article", "figcaption", "caption"}
PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "ul", "ol", "table", "dl"}
CELL = {"td", "th"}


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def to_text(fragment_html):
    """Plain text of readability's HTML, blocks on their own lines."""
    if not fragment_html.strip():
        return ""
    root = lxml.html.fromstring(fragment_html)
    out = []

    def walk(el):
        tag = el.tag if isinstance(el.tag, str) else ""
        sep = "\n\n" if tag in PARAGRAPH else "\n" if tag in LINE else " " if tag in CELL else ""
        if sep:
            out.append(sep)
        if el.text and tag:
            out.append(el.text)
        for child in el:
            walk(child)
        if sep:
            out.append(sep)
        if el.tail:
            out.append(el.tail)

    walk(root)
    lines = [" ".join(line.split()) for line in "".join(out).split("\n")]
    text, blank = [], False
    for line in lines:
        if line:
            if blank and text:
                text.append("")
            text.append(line)
            blank = False
        else:
            blank = True
    return "\n".join(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    files = sorted((Path(a.split) / "html").glob("*.html.gz"))
    preds, errors, html_bytes, wall, cpu = {}, 0, 0, 0.0, 0.0
    first_error = ""
    for f in files:
        fid = f.name.split(".")[0]
        raw = gzip.decompress(f.read_bytes())
        html_bytes += len(raw)
        t0, c0 = time.perf_counter(), cpu_seconds()
        try:
            # readability decodes bytes itself (meta charset, then a guess), as meadow does.
            preds[fid] = to_text(Document(raw).summary(html_partial=True))
        except Exception as e:  # a page readability cannot read scores as empty
            errors += 1
            first_error = first_error or f"{fid}: {e!r}"
            preds[fid] = ""
        wall += time.perf_counter() - t0
        cpu += cpu_seconds() - c0
    Path(a.out).write_text(json.dumps(preds, ensure_ascii=False), encoding="utf-8")
    print(json.dumps({"pages": len(files), "errors": errors, "first_error": first_error, "html_bytes": html_bytes,
                      "seconds": round(wall, 3), "cpu_s": round(cpu, 3), "version": READABILITY_VERSION}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
