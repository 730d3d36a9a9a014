"""``prepuller lock``: pin image references to the digests their registries serve now.

Images come from the command line, from ``--from FILE|-`` (one reference per line, as
``prepuller images`` prints them; blank lines and ``#`` comments skipped) and from values files
(``-f``: every image the prepuller of those values runs, its own helper, pause, docker and
kubectl images included, so that ``lock:`` covers the whole manifest). They are resolved with
:class:`prepuller._registry.RegistryClient` and written as a lock file
(:mod:`prepuller._lockfile`), atomically, only when every image resolved.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._docker_config import read_docker_config
from ._errors import PrepullerError
from ._lockfile import Lock, dumps, read_lock, write_atomic
from ._references import ImageReference, parse_reference, unique_references
from ._registry import DEFAULT_TIMEOUT, RegistryClient

__all__ = ["EXIT_CHANGED", "EXIT_INPUT", "EXIT_OK", "EXIT_REGISTRY", "add_parser", "run"]

EXIT_OK = 0
EXIT_CHANGED = 1
EXIT_INPUT = 2
EXIT_REGISTRY = 3

_PROG = "prepuller lock"
_DEFAULT_JOBS = 8
_MAX_JOBS = 64

_EPILOG = """\
exit codes:
  0  the lock file was written (with --check: it is current)
  1  --check: an image resolves to another digest than locked, or is missing from
     the lock file (each is named on stderr)
  2  usage or input error: a bad option, image reference, values file, --from file,
     docker config or (with --check) lock file
  3  an image could not be resolved: unknown repository or tag, access denied, wrong
     credentials, TLS error, registry unreachable (one line per image on stderr); the
     lock file is left as it was

credentials come from the docker config's "auths" (--docker-config, else
$REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json);
credential helpers are not run.

examples:
  prepuller lock nginx:1.25 registry.k8s.io/pause:3.10 -o prepuller.lock.json
  prepuller lock -f chart-env-config/prod/images-prepuller.yml -o prepuller.lock.json
  prepuller images manifests/ | prepuller lock --from - -o prepuller.lock.json
  prepuller lock -f values.yml -o prepuller.lock.json --check     # in CI: is the lock current?
"""


class _InputError(Exception):
    """Bad input: the message says what and where."""


def add_parser(subparsers: Any) -> None:
    """Register ``lock`` on the ``prepuller`` command's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "lock",
        help="pin image references to the digests their registries serve (a lock file)",
        description=(
            "Resolve image references through the registries' HTTP API (the OCI distribution spec)\n"
            "and write a JSON lock file: for each reference as written, the digest served and, per\n"
            "platform, the image digest and its download size. ImagePrepuller(lock=...) and the\n"
            "`lock` values key render every image as <reference>@<digest>."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("references", nargs="*", metavar="REF", help="image references to lock")
    parser.add_argument(
        "--from",
        dest="from_file",
        action="append",
        default=[],
        metavar="FILE",
        help="read references from FILE, one per line (- for stdin); may be repeated",
    )
    parser.add_argument(
        "-f",
        "--values",
        action="append",
        default=[],
        metavar="VALUES",
        help="lock every image the prepuller of these values files runs (merged as helm -f); may be repeated",
    )
    parser.add_argument("-o", "--output", required=True, metavar="LOCKFILE", help="the lock file to write")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if an image now resolves to another digest or is missing from LOCKFILE",
    )
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="OS/ARCH",
        help="lock only this platform of multi-platform images (os/arch or os/arch/variant); may be repeated. "
        "Default: every platform",
    )
    parser.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="speak plain HTTP to this registry (default: HTTPS); may be repeated",
    )
    parser.add_argument("--docker-config", metavar="PATH", help="the docker config file with registry credentials")
    parser.add_argument("--ca-file", metavar="PATH", help="PEM file of CAs to trust besides the system's")
    parser.add_argument(
        "--jobs",
        type=_jobs,
        default=_DEFAULT_JOBS,
        metavar="N",
        help=f"resolve at most N images at once (1 to {_MAX_JOBS}; default {_DEFAULT_JOBS})",
    )
    parser.add_argument(
        "--timeout",
        type=_timeout,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"per connection and response (default {DEFAULT_TIMEOUT:g})",
    )


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= _MAX_JOBS:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {_MAX_JOBS} (got {text!r})")
    return value


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0 (got {text!r})")
    return value


def run(args: argparse.Namespace) -> int:
    """Run ``prepuller lock`` with parsed ``args``; return the exit code."""
    try:
        references = _references(args)
        platforms = [_platform(text) for text in args.platform]
        auths = read_docker_config(args.docker_config)
        existing = _existing(args.output) if args.check else None
        if args.ca_file is not None and not os.path.isfile(args.ca_file):
            raise _InputError(f"--ca-file {args.ca_file}: does not exist")
    except (PrepullerError, _InputError) as error:
        return _fail(str(error), EXIT_INPUT)
    try:
        with RegistryClient(
            auths=auths,
            insecure=args.insecure_registry,
            platforms=platforms,
            ca_file=args.ca_file,
            jobs=args.jobs,
            timeout=args.timeout,
        ) as client:
            resolved, failures = client.resolve_all(references)
    except KeyboardInterrupt:
        return 130
    if failures:
        for failure in failures:
            print(f"{_PROG}: {failure.reference.text}: {failure.reason}", file=sys.stderr)
        print(f"{_PROG}: {len(failures)} of {len(references)} images could not be resolved", file=sys.stderr)
        return EXIT_REGISTRY
    lock = Lock(images=resolved)
    if existing is not None:
        return _check(existing, lock, references, args.output)
    try:
        write_atomic(args.output, dumps(lock))
    except OSError as error:
        return _fail(f"{args.output}: cannot be written: {error.strerror or error}", EXIT_INPUT)
    platform_count = sum(len(entry.platforms) for entry in resolved.values())
    print(
        f"{_PROG}: locked {len(resolved)} images ({platform_count} platform images) in {args.output}", file=sys.stderr
    )
    return EXIT_OK


def _fail(message: str, code: int) -> int:
    print(f"{_PROG}: error: {message}", file=sys.stderr)
    return code


def _check(existing: Lock, current: Lock, references: Sequence[ImageReference], path: str) -> int:
    stale = []
    for reference in references:
        locked = existing.find(reference)
        now = current.images[reference.text]
        if locked is None:
            stale.append(f"{reference.text}: missing from {path} (resolves to {now.digest})")
        elif locked.digest != now.digest:
            stale.append(f"{reference.text}: locked {locked.digest}, now resolves to {now.digest}")
    for line in stale:
        print(f"{_PROG}: {line}", file=sys.stderr)
    if stale:
        print(f"{_PROG}: {path} is not current: {len(stale)} of {len(references)} images", file=sys.stderr)
        return EXIT_CHANGED
    print(f"{_PROG}: {path} is current ({len(references)} images)", file=sys.stderr)
    return EXIT_OK


def _existing(path: str) -> Lock:
    if not Path(path).exists():
        return Lock(images={}, where=path)
    return read_lock(path)


def _platform(text: str) -> str:
    parts = text.split("/")
    if not 2 <= len(parts) <= 3 or not all(part and part == part.lower() and part.isascii() for part in parts):
        raise _InputError(f"--platform {text!r}: must be os/arch or os/arch/variant in lowercase, e.g. linux/amd64")
    return text


def _references(args: argparse.Namespace) -> list[ImageReference]:
    references = [parse_reference(text, f"REF {text!r}") for text in args.references]
    for source in args.from_file:
        references += _read_from(source)
    if args.values:
        references += [parse_reference(text, "-f") for text in _values_images(args.values)]
    if not references:
        raise _InputError("no images: give REF..., --from FILE or -f VALUES")
    return unique_references(references)


def _read_from(source: str) -> list[ImageReference]:
    name = "<stdin>" if source == "-" else source
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        text = data.decode("utf-8")
    except OSError as error:
        raise _InputError(f"--from {name}: cannot be read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise _InputError(f"--from {name}: is not UTF-8 text (byte {error.start})") from None
    references = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0].strip()
        if stripped:
            references.append(parse_reference(stripped, f"--from {name}, line {number}"))
    return references


def _values_images(paths: Sequence[str]) -> list[str]:
    # Imported here: the construct starts the jsii runtime, which REF and --from never need.
    from ._lock_images import images_of_values

    return images_of_values(paths)
