"""Images in a cdk8s construct tree: :func:`images_in` and the construct's ``images_from``.

Every ``cdk8s.ApiObject`` below the scopes is turned into its manifest with ``to_json()``
(what ``cdk8s synth`` writes), whatever built it: the typed ``k8s`` bindings, cdk8s-plus
workloads, raw ``ApiObject``s, ``Include``s; :mod:`._discovery` reads the pod specs. The
walk happens at call time, so it sees every construct added until then; the construct calls
it at synth time.

The objects of an ``ImagePrepuller`` are never read: a prepuller's DaemonSet lists the images
it pulls, its helper and its pause image, and reading them back would feed a prepuller its own
output (and make two prepullers that read each other's charts recurse forever). ``ImagePrepuller``
marks itself with the class attribute named by ``HIDES_OWN_OBJECTS``: a marker rather than an
``isinstance`` check, because ``_construct`` imports this module.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar

import cdk8s
import constructs
import jsii
from constructs import Construct, IConstruct

from ._discovery import Discovery
from ._errors import PrepullerError
from ._references import ImageReference

__all__ = [
    "HIDES_OWN_OBJECTS",
    "SynthCheck",
    "check_before_synth",
    "images_in",
    "references_in",
    "report_synth_error",
    "scope",
]

#: The class attribute (set to ``True``) of constructs whose ApiObjects are never read.
HIDES_OWN_OBJECTS = "_prepuller_hides_own_objects"

# ApiObjects whose to_json() is running inside a walk: meeting one again means its manifest
# depends on itself (a custom to_json that calls images_in on a scope containing it).
_CONVERTING: ContextVar[frozenset[int]] = ContextVar("_CONVERTING", default=frozenset())


def images_in(*scopes: Construct) -> list[str]:
    """The images of every pod spec below ``scopes``, in first-seen order, de-duplicated.

    Walks every construct below each scope (the scope included) as the tree is at the time of
    the call, and reads the pod specs of the manifests its ``cdk8s.ApiObject``s synthesize to:
    Pods, Deployments, ReplicaSets, ReplicationControllers, StatefulSets, DaemonSets, Jobs,
    CronJobs and PodTemplates, their init, regular and ephemeral containers. Two references to
    the same image (``busybox``, ``docker.io/library/busybox:latest``) are listed once, as first
    written. The objects of any ``ImagePrepuller`` are skipped.

    Args:
        scopes: constructs to search, e.g. charts or the app.

    Raises:
        PrepullerError: a scope is not a construct, or an ``image`` found is not a valid image
            reference (the message names the construct path and the field, and quotes it).
    """
    checked = [scope(value, f"images_in[{index}]") for index, value in enumerate(scopes)]
    return [reference.text for reference in references_in(checked, "images_in")]


def references_in(scopes: Sequence[Construct], option: str) -> list[ImageReference]:
    """The de-duplicated references of :func:`images_in`; errors name ``option``."""
    discovery = Discovery()
    for api_object, path in _api_objects(scopes):
        discovery.add(_to_json(api_object, path, option), source=path, where=path)
    if discovery.problems:
        problem = discovery.problems[0]
        raise problem.error.at(f"{option}: {problem.where}: {problem.field}")
    return [found.reference for found in discovery.images()]


def scope(value: object, option: str) -> Construct:
    """A construct to search (a chart, the app, any construct)."""
    if not isinstance(value, Construct):
        raise PrepullerError(option, "must be a construct (a Chart, the App or any construct to search)", value)
    return value


def check_before_synth(construct: Construct, check: Callable[[], object]) -> SynthCheck:
    """Run ``check`` when the app validates its constructs, before ``App.synth()`` writes any file.

    A :class:`PrepullerError` it raises fails the synth with its message (cdk8s prefixes the
    construct path); nothing is written to the output directory. The message is also printed
    on one line of stderr (:func:`report_synth_error`).
    """
    synth_check = SynthCheck(check, construct.node.path)
    construct.node.add_validation(synth_check)
    return synth_check


@jsii.implements(constructs.IValidation)
class SynthCheck:
    """The validation :func:`check_before_synth` adds.

    cdk8s validates the whole app once per ``App.synth()`` and again for every chart it
    writes (``App._synthChart``), so a check that reads the tree would read it once per chart.
    A check that passed is therefore remembered until :meth:`reset`, which the construct calls
    when it produces its manifest (from the tree as it is then, so the output is never stale).
    A failure is never remembered.
    """

    def __init__(self, check: Callable[[], object], path: str) -> None:
        self._check = check
        self._path = path
        self._passed = False

    def validate(self) -> list[str]:
        if self._passed:
            return []
        try:
            self._check()
        except PrepullerError as error:
            report_synth_error(self._path, error)
            return [str(error)]
        self._passed = True
        return []

    def reset(self) -> None:
        """Check again at the next validation."""
        self._passed = False


def report_synth_error(path: str, error: PrepullerError) -> None:
    """Print ``prepuller: error: <construct path>: <message>`` on stderr.

    An error raised while ``app.synth()`` runs crosses the cdk8s (jsii) runtime and reaches
    the user as a ``RuntimeError`` after a long JavaScript stack; this line comes first, so
    that what to fix is the first thing read.
    """
    print(f"prepuller: error: {path}: {error}", file=sys.stderr, flush=True)


def _hides_own_objects(construct: IConstruct) -> bool:
    return getattr(construct, HIDES_OWN_OBJECTS, False) is True


def _api_objects(scopes: Sequence[Construct]) -> Iterator[tuple[cdk8s.ApiObject, str]]:
    """Every ApiObject below the scopes with its path, pre-order (the order ``cdk8s synth``
    writes them), once.

    Each call into the cdk8s runtime costs a round trip to Node.js, so the walk asks for
    whole subtrees (``find_all``) and touches only ApiObjects and prepullers one by one;
    ``isinstance`` on the Python proxies jsii returns is free.
    """
    roots: list[IConstruct] = []  # kept alive: their ids key `seen`
    seen: set[tuple[int, str]] = set()
    for top in scopes:
        if any(_hides_own_objects(ancestor) for ancestor in top.node.scopes):
            continue
        root = top.node.root
        roots.append(root)
        constructs = top.node.find_all()
        hidden = tuple(f"{c.node.path}/" for c in constructs if _hides_own_objects(c))
        for construct in constructs:
            if not isinstance(construct, cdk8s.ApiObject):
                continue
            path = construct.node.path
            key = (id(root), path)
            if key in seen or path.startswith(hidden):
                continue
            seen.add(key)
            yield construct, path


def _to_json(api_object: cdk8s.ApiObject, path: str, option: str) -> object:
    converting = _CONVERTING.get()
    if id(api_object) in converting:
        raise PrepullerError(option, "an object's manifest depends on the images found in a scope containing it", path)
    token = _CONVERTING.set(converting | {id(api_object)})
    try:
        return api_object.to_json()
    finally:
        _CONVERTING.reset(token)
