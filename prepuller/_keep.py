"""``keep_images``: every image stays in use by a sleeping container, out of image GC.

The kubelet's image garbage collector (under disk pressure, and by age since
``ImageMaximumGCAge``) spares the images of the containers the runtime still holds, exited
ones included (``detectImages`` in ``pkg/kubelet/images/image_gc_manager.go`` lists all
containers). In the default mode the images run only as init containers that exit, so
they are protected only for as long as the kubelet keeps those exited containers: by
default the latest one per container name, but ``--maximum-dead-containers`` (container GC
across the node) removes them even from running pods (kubernetes/kubernetes#62362,
#117005), and so can node clean-up tools. Keep mode adds one long-lived main container per
image, as Eclipse Che's kubernetes-image-puller does, so that every image is used by a
*running* container whatever the container GC settings, and each image shows as a Running
container of the pod.

The pod in keep mode:

- the default mode's init containers, unchanged: the helper copies the static busybox into
  the shared ``emptyDir``, then one init container per image runs the copy's ``echo`` and
  logs ``Pulled '<image>' on node '<node>'``. So the images are pulled as before, one at a
  time, in order, with the same log line (``kubectl logs <pod> -c pull-...``), and no shell
  is involved anywhere: printing a line *and then* sleeping in one container would need
  one (even busybox's own ``sh``), and the sleepers then start from the local copy;
- one main container per image (``keep-<image>``) running ``/.prepuller/busybox sleep
  infinity``: the copied static binary, so scratch and distroless images work. busybox has
  accepted ``infinity`` since 1.31 (``coreutils/sleep.c``: "GNU sleep accepts inf"), it
  sleeps in ``sleep(INT_MAX)`` rounds and never exits; the helper pinned here is 1.37;
- no pause container: the sleepers keep the pod Running. (Only a group with no image at
  all, possible when images are discovered at synth, falls back to the pause container so
  that the pod stays valid.)

Resources: ``resources=`` keeps its meaning (every init container, as in the default mode);
the sleepers get ``keep_resources=``, merged over :data:`KEEP_RESOURCES`, because they are
the part that scales with the number of images and stays reserved for as long as the pod
runs, while the init containers run one at a time and reserve nothing after.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from . import _scheduling
from ._errors import PrepullerError
from ._names import container_names
from ._pods import (
    HELPER_CONTAINER,
    PAUSE_CONTAINER,
    TOOLS_BINARY,
    TOOLS_MOUNT,
    TOOLS_VOLUME,
    PodSettings,
    container,
    kubelet_pod_spec,
    pause_container,
)
from ._references import ImageReference

__all__ = ["KEEP_PREFIX", "KEEP_RESOURCES", "SLEEP_COMMAND", "keep_pod_spec", "keep_resources"]

KEEP_PREFIX = "keep-"

#: What every sleeper runs, after the copied binary. ``infinity`` rather than a number of
#: hours (Che sleeps ``720h`` and relies on the container being restarted): a sleeper that
#: exits would restart and briefly leave its image unused.
SLEEP_COMMAND = ["sleep", "infinity"]

#: The resources of every sleeping container unless ``keep_resources=`` says otherwise.
#:
#: - ``cpu: 1m`` request, the smallest the API accepts: ``sleep`` uses no CPU after it
#:   starts. 50 images reserve 50m per node, where Eclipse Che's ``CACHING_CPU_REQUEST``
#:   of ``.05`` per image reserves 2.5 CPUs (``benchmarks/footprint.py`` prints both).
#: - ``memory: 4Mi`` request: a sleeper settles at 0.23-0.24 MiB of cgroup memory (47-51 KiB
#:   RSS), measured from its memory cgroup on the real cluster (kubelet 1.35, containerd
#:   1.6, runc 1.1, cgroup v1: ``tests/cluster/test_keep_mode.py`` asserts at least a 4x
#:   margin on every run), as under podman 4.3 before (246-262 kB); its resident set is
#:   mostly the static binary's page cache, shared by every sleeper of the pod and charged
#:   once. The request is 16x that. Staying below the request
#:   matters because under memory pressure the kubelet evicts first the pods that use more
#:   than they request; 4Mi covers even a full private copy of the binary, and 50 images
#:   reserve 200Mi where Che's ``10Mi`` per image reserves 500Mi.
#: - ``memory: 64Mi`` limit, as in the default mode (``_scheduling.DEFAULT_RESOURCES``):
#:   a sleeper's peak, its start, measured 3.6-3.9 MiB on the real cluster (16x under the
#:   limit; the test asserts at least 4x). The start is what gets OOM-killed with tight limits, because runc's
#:   ``container init`` and, on GPU nodes, NVIDIA's ``nvidia-container-cli`` hook run in
#:   the container's cgroup before ``sleep`` does (eclipse-che/che#22446: Che's 20Mi
#:   failed, the operator raised it to 30Mi in che-incubator/kubernetes-image-puller-operator#109;
#:   eclipse-che/che#21765: the NVIDIA hook killed with exit 137). A limit reserves
#:   nothing on the node; it only counts against a namespace ``ResourceQuota`` on
#:   ``limits.memory`` (images x nodes x limit), where ``keep_resources`` can lower it.
#: - ``cpu: 50m`` limit: a sleeping process never reaches it, and runc's ``container init``
#:   (charged to the container) needs a few milliseconds of CPU, so a start waits one or two
#:   100 ms CFS periods at most. It is there because a namespace whose ResourceQuota counts
#:   ``limits.cpu`` rejects containers without one, and policy scanners flag its absence
#:   (checkov CKV_K8S_11). It counts ``images x 50m`` per node against such a quota;
#:   ``keep_resources={"limits": {"cpu": None}}`` removes it.
KEEP_RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "1m", "memory": "4Mi"},
    "limits": {"cpu": "50m", "memory": "64Mi"},
}


def keep_resources(keep_images: object, value: Mapping[str, Any] | None) -> dict[str, dict[str, str]] | None:
    """Validate ``keep_images`` and ``keep_resources`` together.

    Returns:
        the sleepers' resources (``value`` merged over :data:`KEEP_RESOURCES`) when keep
        mode is on, ``None`` when it is off.

    Raises:
        PrepullerError: ``keep_images`` is not a bool, ``keep_resources`` is invalid, or
            ``keep_resources`` is given without ``keep_images=True`` (it would do nothing).
    """
    if not isinstance(keep_images, bool):
        raise PrepullerError("keep_images", "must be true or false", keep_images)
    if not keep_images:
        if value is not None:
            raise PrepullerError("keep_resources", "applies only with keep_images=True", value)
        return None
    return _scheduling.resources(value if value is not None else {}, "keep_resources", default=KEEP_RESOURCES)


def keep_pod_spec(
    settings: PodSettings, resources: dict[str, dict[str, str]], images: list[ImageReference]
) -> dict[str, Any]:
    """The default mode's pod (helper and one logging init container per image) with one
    sleeping main container per image in place of the pause container."""
    spec = kubelet_pod_spec(settings, images)
    sleeper_settings = dataclasses.replace(settings, resources=resources)
    names = container_names(images, KEEP_PREFIX, reserved=(HELPER_CONTAINER, PAUSE_CONTAINER))
    sleepers = [
        container(
            sleeper_settings,
            name,
            image,
            command=[TOOLS_BINARY, *SLEEP_COMMAND],
            volumeMounts=[{"name": TOOLS_VOLUME, "mountPath": TOOLS_MOUNT, "readOnly": True}],
        )
        for name, image in zip(names, images, strict=True)
    ]
    spec["containers"] = sleepers or [pause_container(settings)]
    return spec
