#!/usr/bin/python3
"""Checks schemas/ and real documents against it.

    check_schemas.py [--schemas DIR] [--samples DIR] [--run CMD...]

* Every schemas/*.schema.json must be a valid JSON Schema (draft 2020-12) whose $refs resolve.
* schemas/openapi.yaml must name every endpoint of the coordinator, and each of its $refs must
  point at an existing file (and fragment).
* Every sample in the samples directory named `<schema-name>--<label>.json` is validated
  against `<schema-name>.schema.json`; `<schema-name>--<label>.ndjson` holds one document per
  line. Formats that the installed jsonschema can check are asserted.
* --run CMD... runs CMD first with MEADOW_SCHEMA_SAMPLES set to the samples directory (a
  temporary one when --samples is not given); CMD must exit 0 and write at least one sample.

Prints "ok <what>" or "FAIL <what>: <why>" per check, then "N passed, M failed"; exits 1 when
anything failed. Needs only the standard library and jsonschema (Debian's python3-jsonschema);
uses PyYAML for openapi.yaml when it is installed, else a line-based check.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import jsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, best_match

try:  # jsonschema >= 4.18
    from referencing import Registry, Resource
    from referencing.exceptions import Unresolvable as _Unresolvable
except ImportError:  # jsonschema 4.10 (Debian 12)
    Registry = None
    _Unresolvable = None

# Every endpoint router.cpp serves, with its methods (HEAD rides along with GET).
REQUIRED_OPERATIONS = {
    "/v1/nodes/register": ["post"],
    "/v1/lease": ["post"],
    "/v1/leases/extend": ["post"],
    "/v1/results": ["post"],
    "/v1/admin/jobs": ["get", "post"],
    "/v1/admin/jobs/{id}": ["get"],
    "/v1/admin/jobs/{id}/pause": ["post"],
    "/v1/admin/jobs/{id}/resume": ["post"],
    "/v1/admin/jobs/{id}/cancel": ["post"],
    "/v1/admin/jobs/{id}/dead-letters": ["get"],
    "/v1/admin/queue": ["get"],
    "/v1/admin/nodes": ["get"],
    "/v1/admin/nodes/{id}/ban": ["post"],
    "/healthz": ["get"],
    "/readyz": ["get"],
    "/metrics": ["get"],
    "/v1/info": ["get"],
    "/v1/coordinator-key": ["get"],
    "/v1/admin/customers": ["get", "post"],
    "/v1/admin/customers/{id}/keys": ["post"],
    "/v1/admin/keys/{id}/revoke": ["post"],
    "/v1/jobs": ["get", "post"],
    "/v1/jobs/{id}": ["get"],
    "/v1/jobs/{id}/cancel": ["post"],
    "/v1/datasets": ["get"],
    "/v1/datasets/{id}": ["get"],
    "/v1/datasets/{id}/manifest.json": ["get"],
    "/v1/datasets/{id}/README.md": ["get"],
    "/v1/datasets/{id}/shards/{name}": ["get"],
    "/v1/datasets/{id}/records": ["get"],
}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMA_SUFFIX = ".schema.json"
MAX_MESSAGE = 400


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, what):
        self.passed += 1
        print("ok " + what, flush=True)

    def fail(self, what, why):
        self.failed += 1
        why = " ".join(str(why).split())
        if len(why) > MAX_MESSAGE:
            why = why[:MAX_MESSAGE] + "..."
        print("FAIL {}: {}".format(what, why), flush=True)


def format_checker():
    checker = getattr(Draft202012Validator, "FORMAT_CHECKER", None)
    if checker is None:
        checker = jsonschema.draft202012_format_checker
    return checker


def json_pointer(doc, fragment):
    """Resolves a JSON pointer fragment ("/a/b" or "") in doc; raises KeyError when absent."""
    if fragment in ("", "/"):
        return doc
    if not fragment.startswith("/"):
        raise KeyError("'{}' is not a JSON pointer".format(fragment))
    node = doc
    for raw in fragment[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError("no member '{}'".format(part))
    return node


def walk_refs(node, where=""):
    """Yields (location, ref) for every "$ref" string in a JSON-like tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield where or "/", value
            else:
                yield from walk_refs(value, where + "/" + str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk_refs(value, where + "/" + str(i))


class SchemaSet:
    """The schemas of one directory, resolvable by their $id and by their file URI."""

    def __init__(self, directory, report):
        self.directory = directory
        self.schemas = {}  # name -> schema
        self.base = {}  # name -> base URI
        store = {}
        for path in sorted(directory.glob("*" + SCHEMA_SUFFIX)):
            name = path.name[: -len(SCHEMA_SUFFIX)]
            try:
                schema = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                report.fail(path.name, "not JSON: {}".format(e))
                continue
            if not isinstance(schema, dict):
                report.fail(path.name, "a schema file must hold a JSON object")
                continue
            file_uri = path.resolve().as_uri()
            base = schema.get("$id") if isinstance(schema.get("$id"), str) else file_uri
            base = urljoin(file_uri, base)
            self.schemas[name] = schema
            self.base[name] = base
            store[base] = schema
            store[file_uri] = schema
        self.store = store
        self.registry = None
        if Registry is not None:
            self.registry = Registry().with_resources(
                (uri, Resource.from_contents(s, default_specification=_draft2020()))
                for uri, s in store.items()
            )

    def validator(self, name):
        schema = self.schemas[name]
        if self.registry is not None:
            return Draft202012Validator(schema, registry=self.registry, format_checker=format_checker())
        resolver = jsonschema.RefResolver(base_uri=self.base[name], referrer=schema, store=dict(self.store))
        return Draft202012Validator(schema, resolver=resolver, format_checker=format_checker())

    def resolve(self, name, ref):
        """Raises when `ref`, written in schema `name`, does not resolve."""
        target = urljoin(self.base[name], ref)
        if self.registry is not None:
            self.registry.resolver(base_uri=self.base[name]).lookup(ref)
            return
        url, fragment = urldefrag(target)
        doc = self.store.get(url) if url else self.schemas[name]
        if doc is None:
            raise KeyError("no schema file has the URI " + url)
        json_pointer(doc, fragment)

    def check(self, report):
        for name, schema in self.schemas.items():
            what = name + SCHEMA_SUFFIX
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as e:
                report.fail(what, "not a valid draft 2020-12 schema: at {}: {}".format(
                    "/".join(str(p) for p in e.absolute_path) or "(root)", e.message))
                continue
            declared = schema.get("$schema", "")
            if declared and "2020-12" not in declared:
                report.fail(what, "$schema is {}, not draft 2020-12".format(declared))
                continue
            broken = []
            for where, ref in walk_refs(schema):
                try:
                    self.resolve(name, ref)
                except Exception as e:  # noqa: BLE001 - any resolution failure is a finding
                    broken.append("{} -> {} ({})".format(where, ref, e))
            if broken:
                report.fail(what, "unresolvable $ref: " + "; ".join(broken))
            else:
                report.ok(what)


def _draft2020():
    from referencing.jsonschema import DRAFT202012

    return DRAFT202012


def error_text(error):
    path = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return "at {}: {}".format(path, error.message)


def check_samples(schemas, samples_dir, report):
    files = sorted(p for p in samples_dir.rglob("*") if p.is_file() and p.suffix in (".json", ".ndjson"))
    for path in files:
        what = str(path.relative_to(samples_dir))
        stem = path.name[: -len(path.suffix)]
        name = stem.split("--", 1)[0]
        if name not in schemas.schemas:
            report.fail(what, "no schema named '{}{}' in {}".format(name, SCHEMA_SUFFIX, schemas.directory))
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            report.fail(what, "cannot read: {}".format(e))
            continue
        if path.suffix == ".json":
            documents = [(None, text)]
        else:
            documents = [(i, line) for i, line in enumerate(text.split("\n"), 1) if line.strip()]
            if not documents:
                report.fail(what, "holds no documents")
                continue
        validator = schemas.validator(name)
        problem = None
        for line_no, doc_text in documents:
            where = "" if line_no is None else "line {}: ".format(line_no)
            try:
                doc = json.loads(doc_text)
            except ValueError as e:
                problem = where + "not JSON: {}".format(e)
                break
            error = best_match(validator.iter_errors(doc))
            if error is not None:
                problem = where + error_text(error)
                break
        if problem:
            report.fail(what, problem)
        else:
            report.ok(what)
    return len(files)


# --- openapi.yaml -------------------------------------------------------------------------

def load_yaml(path):
    try:
        import yaml  # noqa: PLC0415 - optional
    except ImportError:
        return None
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def check_openapi_ref(api_path, api_doc, ref):
    """Returns why `ref` (written in openapi.yaml) is broken, or None."""
    target, _, fragment = ref.partition("#")
    if not target:
        if api_doc is None:
            return None
        try:
            json_pointer(api_doc, fragment)
        except (KeyError, IndexError, ValueError) as e:
            return "{} does not resolve in openapi.yaml ({})".format(ref, e)
        return None
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target):
        return "{} is not a relative file reference".format(ref)
    file = (api_path.parent / target).resolve()
    if not file.is_file():
        return "{} names a file that does not exist".format(ref)
    if fragment:
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
            json_pointer(doc, fragment)
        except (OSError, ValueError, KeyError, IndexError) as e:
            return "{} does not resolve ({})".format(ref, e)
    return None


def openapi_operations_by_lines(text):
    """A line-based reading of `paths:` for when PyYAML is missing: {path: [methods]}."""
    ops = {}
    in_paths = False
    current = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            in_paths = line.rstrip() == "paths:"
            current = None
            continue
        if not in_paths:
            continue
        m = re.match(r"^  (['\"]?)(/[^'\"]*)\1:\s*$", line)
        if m:
            current = m.group(2)
            ops[current] = []
            continue
        m = re.match(r"^    ([a-z]+):\s*$", line)
        if m and current and m.group(1) in HTTP_METHODS:
            ops[current].append(m.group(1))
    return ops


def check_openapi(schemas_dir, report):
    path = schemas_dir / "openapi.yaml"
    what = "openapi.yaml"
    if not path.is_file():
        report.fail(what, "missing from " + str(schemas_dir))
        return
    text = path.read_text(encoding="utf-8")
    try:
        doc = load_yaml(path)
    except Exception as e:  # noqa: BLE001 - yaml.YAMLError and friends
        report.fail(what, "not valid YAML: {}".format(e))
        return
    problems = []
    if doc is not None:
        if not str(doc.get("openapi", "")).startswith("3.1"):
            problems.append("the openapi version is {!r}, not 3.1.x".format(doc.get("openapi")))
        paths = doc.get("paths") or {}
        ops = {p: [m for m in (item or {}) if m in HTTP_METHODS] for p, item in paths.items()}
        for p, item in paths.items():
            for m in ops[p]:
                if not (item[m] or {}).get("responses"):
                    problems.append("{} {} has no responses".format(m.upper(), p))
        refs = [ref for _, ref in walk_refs(doc)]
        refs += [v for _, v in _walk_key(doc, "x-line-schema")]
    else:
        if not re.search(r"^openapi:\s*['\"]?3\.1", text, re.M):
            problems.append("the openapi version is not 3.1.x")
        ops = openapi_operations_by_lines(text)
        refs = re.findall(r"""\$ref:\s*['"]?([^'"\s]+)""", text)
        refs += re.findall(r"""x-line-schema:\s*['"]?([^'"\s]+)""", text)
    for p, methods in REQUIRED_OPERATIONS.items():
        if p not in ops:
            problems.append("no path " + p)
            continue
        for m in methods:
            if m not in ops[p]:
                problems.append("no {} {}".format(m.upper(), p))
    for ref in sorted(set(refs)):
        why = check_openapi_ref(path, doc, ref)
        if why:
            problems.append(why)
    if problems:
        report.fail(what, "; ".join(problems))
    else:
        report.ok("{} ({} $refs, {} paths{})".format(
            what, len(set(refs)), len(ops), "" if doc is not None else ", line-based check"))


def _walk_key(node, key, where=""):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, str):
                yield where, v
            else:
                yield from _walk_key(v, key, where + "/" + str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk_key(v, key, where + "/" + str(i))


# --- main ---------------------------------------------------------------------------------

def main(argv):
    default_schemas = Path(__file__).resolve().parents[2] / "schemas"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schemas", type=Path, default=default_schemas,
                        help="directory of *.schema.json and openapi.yaml (default: %(default)s)")
    parser.add_argument("--samples", type=Path, help="directory of sample documents to validate")
    parser.add_argument("--run", nargs=argparse.REMAINDER, metavar="CMD",
                        help="run CMD with MEADOW_SCHEMA_SAMPLES=<samples dir> first (must be last)")
    args = parser.parse_args(argv)

    report = Report()
    if not args.schemas.is_dir():
        report.fail(str(args.schemas), "is not a directory")
        print("{} passed, {} failed".format(report.passed, report.failed))
        return 1

    temp_dir = None
    samples = args.samples
    try:
        if args.run is not None:
            if not args.run:
                parser.error("--run needs a command")
            if samples is None:
                temp_dir = tempfile.mkdtemp(prefix="meadow-schema-samples-")
                samples = Path(temp_dir)
            samples.mkdir(parents=True, exist_ok=True)
            env = dict(os.environ, MEADOW_SCHEMA_SAMPLES=str(samples.resolve()))
            what = "run " + " ".join(args.run)
            try:
                rc = subprocess.call(args.run, env=env)
            except OSError as e:
                rc = None
                report.fail(what, "cannot start: {}".format(e))
            if rc == 0:
                report.ok(what)
            elif rc is not None:
                report.fail(what, "exited with status {}".format(rc))

        schemas = SchemaSet(args.schemas, report)
        if not schemas.schemas:
            report.fail(str(args.schemas), "holds no *" + SCHEMA_SUFFIX)
        schemas.check(report)
        check_openapi(args.schemas, report)

        if samples is not None:
            if not samples.is_dir():
                report.fail(str(samples), "is not a directory")
            else:
                n = check_samples(schemas, samples, report)
                if n == 0 and args.run is not None:
                    report.fail("samples", "the command wrote no samples to {}".format(samples))
    finally:
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)

    print("{} passed, {} failed".format(report.passed, report.failed))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
