"""``prepuller status``: which node has which image, why a pull failed, and ``--wait``.

Runs ``kubectl`` (found on ``PATH``; never through a shell, every value one argv entry)
or reads its JSON or YAML output from files, and prints what :mod:`prepuller._status` makes of it.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import yaml

from . import _validation
from ._errors import PrepullerError
from ._lockfile import Lock, read_lock
from ._status import Report, render_json, render_table, status_report
from ._status_bytes import NodeBytes, bytes_json, node_bytes, node_platforms, render_bytes_table

__all__ = ["add_parser", "parse_duration", "run"]

EXIT_READY = 0
EXIT_NOT_READY = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_KUBECTL = 4
EXIT_INPUT = 5

#: How long one ``kubectl`` call may take before it counts as failed.
KUBECTL_TIMEOUT_SECONDS = 60.0

#: While ``--wait`` sees no change, it still prints a progress line this often.
_HEARTBEAT_SECONDS = 60.0

_EPILOG = """\
exit codes:
  0    every image is on every node that has, or should have, a prepuller pod
  1    not ready: images still pulling or waiting, pulls failed, nodes without a
       pod, or no prepuller pods at all
  2    usage error (bad option or value)
  3    --wait: the timeout passed before every image was on every node
  4    kubectl is missing, failed (e.g. cannot reach the cluster, not allowed to
       list pods) or printed something that is not JSON
  5    --from-file/--nodes-file: cannot be read, is neither JSON nor YAML, or is not a
       List of Pods/Nodes (the message gives the position); --lock: not a valid lock file
  130  interrupted

Nodes that are not Ready, and nodes the DaemonSet's nodeSelector or tolerations exclude,
are listed but not counted. If listing nodes is forbidden, a line says so and only nodes
with a prepuller pod are shown.

examples:
  prepuller status -n prepuller
  prepuller status -n prepuller --wait --timeout 10m     # in CI/CD, before rolling out
  kubectl get pods -l name=prepull -o json | prepuller status --from-file -
  prepuller status --from-file pods.yaml --nodes-file nodes.yaml   # kubectl get -o yaml
  prepuller status -n prepuller --lock prepuller.lock.json   # bytes per image and per node
"""

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in a Go-style duration (``10m``, ``1m30s``, ``500ms``) or a plain number of seconds.

    Raises:
        argparse.ArgumentTypeError: anything else, or a negative value.
    """
    try:
        value = float(text)
    except ValueError:
        parts = _DURATION_PART.findall(text)
        if not parts or "".join(number + unit for number, unit in parts) != text:
            raise argparse.ArgumentTypeError(
                f"must be a duration such as 10m, 1m30s, 45s or 500ms, or a number of seconds (got {text!r})"
            ) from None
        value = sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite duration of 0 or more (got {text!r})")
    return value


def _positive_duration(text: str) -> float:
    value = parse_duration(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 (got {text!r})")
    return value


def _checked(check: Callable[[object, str], str], option: str) -> Callable[[str], str]:
    """An argparse ``type`` from one of the construct's validators: same rules, same message."""

    def convert(text: str) -> str:
        try:
            return check(text, option)
        except PrepullerError as error:
            raise argparse.ArgumentTypeError(error.reason + f" (got {text!r})") from None

    return convert


def add_parser(subparsers: Any) -> None:
    """Add ``status`` to the ``prepuller`` command's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "status",
        help="show which node has which image, and why a pull failed",
        description=(
            "Show a node x image table of a prepuller's pods: pulled, pulling, waiting or failed "
            "(with the kubelet's reason and message), and a summary line. Reads "
            "`kubectl get pods -l name=NAME -o json` and `kubectl get nodes -o json`, or the pods' "
            "JSON from a file or stdin."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-n", "--namespace", type=_checked(_validation.dns_label, "--namespace"),
        help="the prepuller's namespace (default: kubectl's current one)",
    )  # fmt: skip
    parser.add_argument(
        "--name", default="prepull", type=_checked(_validation.label_value, "--name"),
        help="the prepuller's name: its pods carry the label name=NAME (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file for kubectl")
    parser.add_argument("--context", metavar="CONTEXT", help="kubeconfig context for kubectl")
    parser.add_argument(
        "--from-file", metavar="FILE", dest="from_file",
        help="read the pods (kubectl get pods -l name=NAME -o json, or -o yaml) from FILE, or stdin for '-'; "
        "kubectl is not run, so -n, --kubeconfig and --context are refused; only pods labelled name=NAME are read",
    )  # fmt: skip
    parser.add_argument(
        "--nodes-file", metavar="FILE", dest="nodes_file",
        help="read the nodes (kubectl get nodes -o json, or -o yaml) from FILE instead of running kubectl",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--output", choices=("table", "json"), default="table",
        help="table for people, json for scripts (its schema: docs/guide/status.md) (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--lock", metavar="FILE",
        help="a lock file (prepuller lock): add the bytes each node downloads, per image and in all, "
        "for the node's platform",
    )  # fmt: skip
    parser.add_argument(
        "--wait", action="store_true",
        help="poll until every image is on every node (exit 0) or --timeout passes (exit 3), "
        "printing progress to stderr",
    )  # fmt: skip
    parser.add_argument(
        "--timeout", type=parse_duration, default=parse_duration("10m"), metavar="DURATION",
        help="how long --wait waits, e.g. 10m, 90s, 1h (default: 10m)",
    )  # fmt: skip
    parser.add_argument(
        "--interval", type=_positive_duration, default=parse_duration("5s"), metavar="DURATION",
        help="time between polls with --wait (default: 5s)",
    )  # fmt: skip


class _Failure(Exception):
    """Stops the command with a message and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class _Clock:
    """Time, injectable so the wait loop is testable without sleeping."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def run(args: argparse.Namespace, *, clock: _Clock | None = None) -> int:
    """Run ``prepuller status`` with parsed ``args``; print to stdout/stderr; return the exit code."""
    if args.wait and args.from_file is not None:
        return _fail("--wait polls the cluster through kubectl; it cannot be used with --from-file", EXIT_USAGE)
    if args.from_file is not None:
        kubectl_options = {"-n/--namespace": args.namespace, "--kubeconfig": args.kubeconfig, "--context": args.context}
        for option, value in kubectl_options.items():
            if value is not None:
                return _fail(
                    f"{option} is for kubectl, which --from-file does not run: select the pods when you "
                    f"write the file (kubectl get pods {'-n NAMESPACE ' if option.startswith('-n') else ''}"
                    "-l name=NAME -o json)",
                    EXIT_USAGE,
                )
    try:
        lock = _lock(args.lock) if args.lock is not None else None
        if args.wait:
            return _wait(args, clock or _Clock(), lock)
        report = _report(args)
    except _Failure as failure:
        return _fail(str(failure), failure.code)
    except KeyboardInterrupt:
        return 130
    _print(report, args.output, sys.stdout, _sizes(lock, args, report))
    return EXIT_READY if report.ready else EXIT_NOT_READY


def _lock(path: str) -> Lock:
    try:
        return read_lock(path)
    except PrepullerError as error:
        raise _Failure(f"--lock: {error}", EXIT_INPUT) from None


def _sizes(lock: Lock | None, args: argparse.Namespace, report: Report) -> tuple[list[NodeBytes], str] | None:
    if lock is None:
        return None
    # The node list the report was made from (see _report), for the nodes' platforms.
    return node_bytes(report, lock, node_platforms(getattr(args, "nodes_document", None))), args.lock


def _fail(message: str, code: int) -> int:
    print(f"prepuller status: error: {message}", file=sys.stderr)
    return code


def _print(report: Report, output: str, stream: TextIO, sizes: tuple[list[NodeBytes], str] | None = None) -> None:
    if output == "json":
        if sizes is None:
            stream.write(render_json(report))
        else:
            document = {**report.to_json(), "lock": sizes[1], "bytes": bytes_json(sizes[0])}
            stream.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
    else:
        stream.write(render_table(report))
        if sizes is not None:
            stream.write(render_bytes_table(*sizes))
    stream.flush()


def _wait(args: argparse.Namespace, clock: _Clock, lock: Lock | None = None) -> int:
    start = clock.now()
    deadline = start + args.timeout
    last_line = ""
    last_printed = start
    report: Report | None = None
    while True:
        try:
            report = _report(args)
        except _Failure as failure:
            if report is None or failure.code != EXIT_KUBECTL:
                raise  # the very first poll failing is a configuration problem, not a hiccup
            line = f"kubectl failed, retrying: {failure}"
        else:
            if report.ready:
                _progress(clock.now() - start, report.summary)
                _print(report, args.output, sys.stdout, _sizes(lock, args, report))
                return EXIT_READY
            line = report.summary
        now = clock.now()
        if now >= deadline:
            _progress(now - start, f"timed out after {_format_seconds(args.timeout)}: {line}")
            _print(report, args.output, sys.stdout, _sizes(lock, args, report))
            return EXIT_TIMEOUT
        if line != last_line or now - last_printed >= _HEARTBEAT_SECONDS:
            _progress(now - start, line)
            last_line, last_printed = line, now
        clock.sleep(min(args.interval, deadline - now))


def _progress(elapsed: float, line: str) -> None:
    print(f"[{_format_seconds(elapsed)}] {line}", file=sys.stderr, flush=True)


def _format_seconds(seconds: float) -> str:
    whole = int(seconds)
    if whole < 60:
        return f"{seconds:.0f}s" if seconds >= 1 or seconds == 0 else f"{seconds:.1f}s"
    minutes, rest = divmod(whole, 60)
    return f"{minutes}m{rest:02d}s"


# --- getting the JSON --------------------------------------------------------------------


def _report(args: argparse.Namespace) -> Report:
    """The report; the node list it was made from is kept as ``args.nodes_document``."""
    if args.from_file is not None:
        pods = _read_json(args.from_file, "--from-file")
        nodes = _read_json(args.nodes_file, "--nodes-file") if args.nodes_file is not None else None
        nodes_error = None if args.nodes_file is not None else "no --nodes-file given"
    else:
        pods = _kubectl(args, "get", "pods", f"--selector=name={args.name}", "--output=json")
        nodes_error = None
        if args.nodes_file is not None:
            nodes = _read_json(args.nodes_file, "--nodes-file")
        else:
            try:
                nodes = _kubectl(args, "get", "nodes", "--output=json", namespaced=False)
            except _Failure as failure:  # typically RBAC: "nodes is forbidden"; carry on without
                nodes, nodes_error = None, str(failure)
    try:
        report = status_report(pods, nodes, name=args.name, nodes_error=nodes_error)
        args.nodes_document = nodes
        return report
    except PrepullerError as error:
        is_nodes = error.option.startswith("nodes")
        path = args.nodes_file if is_nodes else args.from_file
        if path is None:
            source, code = f"`kubectl get {'nodes' if is_nodes else 'pods'}`", EXIT_KUBECTL
        else:
            source, code = (
                f"{'--nodes-file' if is_nodes else '--from-file'} {'stdin' if path == '-' else path}",
                EXIT_INPUT,
            )
        raise _Failure(f"{source}: not what `kubectl get -o json` prints: {error}", code) from None


def kubectl_argv(args: argparse.Namespace, *command: str, namespaced: bool = True) -> list[str]:
    """The argv for ``kubectl``: global flags as ``--flag=value`` (one entry each, so a
    value starting with ``-`` cannot become a flag), then the command."""
    argv = ["kubectl"]
    if args.kubeconfig is not None:
        argv.append(f"--kubeconfig={args.kubeconfig}")
    if args.context is not None:
        argv.append(f"--context={args.context}")
    if namespaced and args.namespace is not None:
        argv.append(f"--namespace={args.namespace}")
    return [*argv, *command]


def _kubectl(args: argparse.Namespace, *command: str, namespaced: bool = True) -> Any:
    argv = kubectl_argv(args, *command, namespaced=namespaced)
    executable = shutil.which("kubectl")
    if executable is None:
        raise _Failure("kubectl not found on PATH; install it, or pass the pods' JSON with --from-file", EXIT_KUBECTL)
    what = " ".join(command[:2])
    try:
        done = subprocess.run(
            [executable, *argv[1:]], capture_output=True, text=True, timeout=KUBECTL_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise _Failure(f"`kubectl {what}` did not answer within {KUBECTL_TIMEOUT_SECONDS:.0f}s", EXIT_KUBECTL) from None
    except OSError as error:
        raise _Failure(f"cannot run kubectl ({executable}): {error}", EXIT_KUBECTL) from None
    if done.returncode != 0:
        message = " ".join(done.stderr.split()) or f"exit code {done.returncode}"
        raise _Failure(f"`kubectl {what}` failed: {message}", EXIT_KUBECTL)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as error:
        raise _Failure(f"`kubectl {what}` printed something that is not JSON: {error}", EXIT_KUBECTL) from None


class _KubectlYamlLoader(yaml.SafeLoader):
    """YAML as ``kubectl get -o yaml`` prints it, read into what its ``-o json`` gives: plain
    strings, numbers, booleans, lists and mappings (no timestamps, which JSON has not)."""


_KubectlYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_json(path: str, option: str) -> Any:
    """The document in ``path`` (``-``: stdin): JSON, or YAML (``kubectl get -o yaml``)."""
    name = "stdin" if path == "-" else path
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as stream:
                text = stream.read()
    except (OSError, UnicodeDecodeError) as error:
        raise _Failure(f"{option} {name}: cannot read it: {error}", EXIT_INPUT) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        json_error = error
    try:
        return yaml.load(text, Loader=_KubectlYamlLoader)
    except yaml.YAMLError as error:
        if text.lstrip()[:1] in ("{", "["):  # meant as JSON: its message is the useful one
            raise _Failure(f"{option} {name}: not JSON: {json_error}", EXIT_INPUT) from None
        raise _Failure(f"{option} {name}: neither JSON nor YAML: {' '.join(str(error).split())}", EXIT_INPUT) from None
