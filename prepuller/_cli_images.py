"""``prepuller images``: list the container images of Kubernetes manifests.

Reads YAML and JSON from files, folders and stdin (``kubectl get -o json|yaml``, ``helm
template``, ``cdk8s synth`` output), finds the pod specs with :mod:`._discovery` and prints
the images as lines, as a values file for the construct, or as JSON.

YAML is parsed with PyYAML (the libyaml loader when available, for speed): it reports the line
and column of a syntax error and gives each document's start line for the warnings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import yaml

from ._discovery import Discovery, FoundImage, matches

__all__ = ["add_parser", "run"]

_PROG = "prepuller images"
_SUFFIXES = (".yaml", ".yml", ".json")
_STDIN = "-"
_STDIN_NAME = "<stdin>"
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_EPILOG = """\
examples:
  kubectl get deploy,sts,ds,cronjob,job,pod -A -o json | prepuller images -
  helm template my-release ./chart | prepuller images - --exclude 'registry.k8s.io/*'
  prepuller images manifests/ --format values > chart-env-config/prod/images-prepuller.yml
  prepuller images manifests/ --count

A prepuller's own objects (labelled app.kubernetes.io/name=image-prepuller: its
DaemonSets and pods, the refresh CronJob) are left out, with their helper, pause and
kubectl images; --include-prepuller reads them as any other workload.

formats:
  lines   one image per line (with --count: the count, two spaces, the image)
  values  a YAML values file: a comment header, then "images:" and the list
          (with --count, each line ends with "# N workloads")
  json    a list of {"image", "count", "workloads", "sources"} objects

exit codes:
  0  images listed (warnings about invalid references may have been printed)
  1  an input could not be read or parsed; with --strict also any warning
  2  usage error (unknown option, no input given on a terminal)
"""


class _InputError(Exception):
    """An input that cannot be read or parsed; the message names the file and position."""


def add_parser(subparsers: Any) -> None:
    """Register ``images`` on the ``prepuller`` command's subparsers."""
    parser = subparsers.add_parser(
        "images",
        help="list the container images of Kubernetes manifests",
        description=(
            "List the container images of the workloads (Pods, Deployments, ReplicaSets, "
            "ReplicationControllers, StatefulSets, DaemonSets, Jobs, CronJobs, PodTemplates; "
            "init, regular and ephemeral containers) in Kubernetes manifests, once each, in the "
            "order first seen. Other documents are skipped. Images that are not valid references "
            "are reported on stderr and left out."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="YAML or JSON files, folders (searched recursively for *.yaml, *.yml, *.json), "
        "or - for stdin (the default when stdin is not a terminal)",
    )
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="GLOB",
        help="keep only images matching this glob (repeatable; matched against the reference as "
        "written and its full form, e.g. docker.io/library/nginx:latest for nginx)",
    )
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB", help="drop images matching this glob (repeatable)"
    )
    parser.add_argument(
        "--format", choices=("lines", "values", "json"), default="lines", help="output format (default: lines)"
    )
    parser.add_argument("--count", action="store_true", help="show how many workloads use each image, most used first")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a warning was printed")
    parser.add_argument(
        "--include-prepuller",
        action="store_true",
        help="also read the prepuller's own objects (labelled app.kubernetes.io/name=image-prepuller), "
        "which are left out by default",
    )
    parser.set_defaults(images_parser=parser)


def run(args: argparse.Namespace) -> int:
    """List the images of ``args.paths``; return the exit code."""
    paths: list[str] = args.paths
    if not paths:
        if sys.stdin is None or sys.stdin.isatty():
            args.images_parser.print_usage(sys.stderr)
            _print_error("no input: give a PATH, or - and pipe manifests into stdin")
            return 2
        paths = [_STDIN]
    discovery = Discovery(skip_prepullers=not args.include_prepuller)
    warnings: list[str] = []
    try:
        for name, text in _inputs(paths, warnings):
            for where, document in _documents(name, text):
                discovery.add(document, source=name, where=where)
    except _InputError as error:
        _print_error(str(error))
        return 1
    warnings.extend(f"{problem} (left out)" for problem in discovery.problems)

    found = [
        image
        for image in discovery.images()
        if (not args.include or matches(image.reference, args.include)) and not matches(image.reference, args.exclude)
    ]
    if args.count:
        found.sort(key=lambda image: -image.count)  # stable: ties stay in first-seen order
    if not found:
        warnings.append("no container images found")
    for warning in warnings:
        print(f"{_PROG}: warning: {warning}", file=sys.stderr)
    try:
        sys.stdout.write(_FORMATS[args.format](found, args.count, paths))
        sys.stdout.flush()
    except BrokenPipeError:
        raise  # the reader left (`| head`): the command's dispatcher ends quietly
    except OSError as error:
        _print_error(f"cannot write the output: {error.strerror}")
        return 1
    return 1 if args.strict and warnings else 0


# --- input ------------------------------------------------------------------------------


def _inputs(paths: Sequence[str], warnings: list[str]) -> Iterator[tuple[str, str]]:
    """(name, text) of every input: files as given, folders expanded, ``-`` for stdin."""
    for path in paths:
        if path == _STDIN:
            yield _STDIN_NAME, _decode(_STDIN_NAME, sys.stdin.buffer.read())
        elif os.path.isdir(path):
            files = list(_walk(path))
            if not files:
                warnings.append(f"{path}: no *.yaml, *.yml or *.json files in this folder")
            for file in files:
                yield file, _read(file)
        else:
            yield path, _read(path)


def _walk(folder: str) -> Iterator[str]:
    """Manifest files below ``folder``, sorted (files of a folder, then its subfolders)."""

    def fail(error: OSError) -> None:
        raise _InputError(f"{error.filename}: cannot read: {error.strerror}")

    for directory, subdirectories, files in os.walk(folder, onerror=fail):
        subdirectories.sort()
        for file in sorted(files):
            if file.lower().endswith(_SUFFIXES):
                yield os.path.join(directory, file)


def _read(path: str) -> str:
    try:
        with open(path, "rb") as stream:
            return _decode(path, stream.read())
    except FileNotFoundError:
        raise _InputError(f"{path}: no such file or folder") from None
    except OSError as error:
        raise _InputError(f"{path}: cannot read: {error.strerror}") from None


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _InputError(f"{name}: not UTF-8 text (byte {data[error.start]:#04x} at offset {error.start})") from None


def _documents(name: str, text: str) -> Iterator[tuple[str, object]]:
    """(where, document) of each document; JSON for ``*.json`` and JSON-looking stdin."""
    if name.lower().endswith(".json") or (name == _STDIN_NAME and text.lstrip()[:1] in ("{", "[")):
        try:
            document = json.loads(text)
        except RecursionError:
            raise _InputError(f"{name}: cannot parse JSON: nested too deeply") from None
        except json.JSONDecodeError as error:
            if name != _STDIN_NAME:
                raise _InputError(f"{name}:{error.lineno}:{error.colno}: cannot parse JSON: {error.msg}") from None
            json_error = error
        else:
            yield f"{name}: document 1", document
            return
        # JSON-looking stdin that is not JSON may still be YAML (a flow mapping and more).
        try:
            yield from _yaml_documents(name, text)
        except _InputError:
            raise _InputError(
                f"{name}:{json_error.lineno}:{json_error.colno}: cannot parse JSON: {json_error.msg}"
            ) from None
        return
    yield from _yaml_documents(name, text)


def _yaml_documents(name: str, text: str) -> list[tuple[str, object]]:
    try:
        return _load_yaml(name, text, _FAST_LOADER)
    except _InputError:
        if _FAST_LOADER is yaml.SafeLoader:
            raise
    # libyaml's messages and positions differ between its versions; report the pure-Python
    # loader's, the same everywhere.
    return _load_yaml(name, text, yaml.SafeLoader)


def _load_yaml(name: str, text: str, loader_class: Any) -> list[tuple[str, object]]:
    # Compose node by node (what yaml.safe_load_all does) to learn where each document starts.
    loader = loader_class(text)
    documents: list[tuple[str, object]] = []
    try:
        number = 0
        while loader.check_node():
            node = loader.get_node()
            number += 1
            document = loader.construct_document(node)
            line = node.start_mark.line + 1 if node is not None else None
            documents.append((f"{name}: document {number}" + (f" at line {line}" if line else ""), document))
    except yaml.MarkedYAMLError as error:
        raise _InputError(_yaml_message(name, error)) from None
    except yaml.YAMLError as error:
        raise _InputError(f"{name}: cannot parse YAML: {' '.join(str(error).split())}") from None
    except RecursionError:
        raise _InputError(f"{name}: cannot parse YAML: nested too deeply") from None
    finally:
        loader.dispose()
    return documents


def _yaml_message(name: str, error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    position = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
    message = error.problem or error.context or "invalid YAML"
    if error.problem and error.context and error.context_mark is not None:
        message += f" ({error.context} started at {error.context_mark.line + 1}:{error.context_mark.column + 1})"
    return f"{name}{position}: cannot parse YAML: {message}"


def _print_error(message: str) -> None:
    print(f"{_PROG}: error: {message}", file=sys.stderr)


# --- output -----------------------------------------------------------------------------


def _lines(found: list[FoundImage], count: bool, paths: Sequence[str]) -> str:
    if not count:
        return "".join(f"{image.image}\n" for image in found)
    width = max((len(str(image.count)) for image in found), default=1)
    return "".join(f"{image.count:>{width}}  {image.image}\n" for image in found)


def _values(found: list[FoundImage], count: bool, paths: Sequence[str]) -> str:
    # Written by hand around yaml.safe_dump of each item, to keep a comment header and
    # per-line counts (PyYAML cannot emit comments); every item is quoted as YAML needs.
    sources = " ".join(_printable(path) for path in paths)
    lines = [
        "# Images to pre-pull, written by `prepuller images --format values`",
        f"# from: {sources}",
        "# Load with: python main.py -f THIS_FILE  (or PREPULLER_VALUES=THIS_FILE make synth)",
    ]
    if not found:
        lines.append("images: []")
    else:
        lines.append("images:")
        for image in found:
            item = yaml.safe_dump([image.image], width=2**16).rstrip("\n")
            suffix = f"  # {image.count} workload{'s' if image.count != 1 else ''}" if count else ""
            lines.append(f"  {item}{suffix}")
    return "\n".join(lines) + "\n"


def _json(found: list[FoundImage], count: bool, paths: Sequence[str]) -> str:
    records = [
        {"image": image.image, "count": image.count, "workloads": image.workloads, "sources": image.sources}
        for image in found
    ]
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


def _printable(path: str) -> str:
    text = _STDIN_NAME if path == _STDIN else path
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text


_FORMATS = {"lines": _lines, "values": _values, "json": _json}
