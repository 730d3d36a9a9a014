"""The images a prepuller of given values files runs: what ``prepuller lock -f`` locks.

The prepuller is built (without its ``lock``) and synthesized in a throwaway app: its images
(which docker mode passes as arguments, not as container images), then the image of every
container of every object, read back, so the list is exactly what the manifests run: the
images, then the helper, pause, docker and kubectl images of the options in use.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import cdk8s

from ._checkov import pod_spec_of
from ._construct import ImagePrepuller
from ._values import values_without_lock

__all__ = ["images_of_values", "images_run_by"]


def images_of_values(paths: Sequence[str | os.PathLike[str]]) -> list[str]:
    """Every image reference the prepuller of these values files runs, each once, in order.

    Raises:
        PrepullerError: a values file is refused (see :func:`prepuller.load_values`).
    """
    values = values_without_lock(*paths)
    chart = cdk8s.Chart(cdk8s.App(), "lock")
    prepuller = ImagePrepuller(chart, "prepull", **values)
    return images_run_by(prepuller)


def images_run_by(prepuller: ImagePrepuller) -> list[str]:
    """``prepuller.images``, then the images of every container (init and regular) of the
    objects ``prepuller`` emits, each once."""
    chart = cdk8s.Chart.of(prepuller)
    images: dict[str, None] = dict.fromkeys(prepuller.images)
    for manifest in chart.to_json():
        spec = pod_spec_of(manifest) or {}
        for kind in ("initContainers", "containers"):
            for container in spec.get(kind) or []:
                images.setdefault(str(container["image"]), None)
    return list(images)
