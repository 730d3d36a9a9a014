"""The images the one-node cluster's registry holds under the prepuller's default references,
built here (``buildah from scratch``) from binaries on this machine; no image comes from the
internet. ``tests/cluster/up`` runs this module once the registry is up:

    python -m tests.cluster.images --registry 127.0.0.1:PORT --work DIR --kubectl BIN --pause BIN

- the helper busybox (``HELPER_IMAGE``): Debian's static busybox at ``/bin/busybox``;
- pause (``PAUSE_IMAGE``, also containerd's sandbox image): Kubernetes' own ``pause.c``,
  compiled statically by ``tests/cluster/build``;
- kubectl (``KUBECTL_IMAGE``): the kubectl built from the cluster's own release, at
  ``/bin/kubectl`` with no shell, as in the Kubernetes project's distroless image. It is
  pushed under the default reference so that the defaults run unchanged; its version is the
  cluster's, not the tag's.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from prepuller._defaults import HELPER_IMAGE, KUBECTL_BINARY, KUBECTL_IMAGE, PAUSE_IMAGE
from tests.e2e.engine import Environment
from tests.e2e.images import ImageFile, ImageSpec, build, busybox_image


def static_busybox() -> Path:
    """A statically linked busybox: Debian's ``busybox-static`` installs it as /bin/busybox."""
    return Path("/bin/busybox")


def pause_image(binary: Path) -> ImageSpec:
    """Kubernetes' pause binary as the entrypoint, as in ``registry.k8s.io/pause``."""
    return ImageSpec(names=(PAUSE_IMAGE,), files=(ImageFile("/pause", source=binary),), entrypoint=("/pause",))


def kubectl_image(binary: Path) -> ImageSpec:
    """kubectl alone (no shell), at the path the construct runs it from."""
    return ImageSpec(
        names=(KUBECTL_IMAGE,),
        files=(ImageFile(KUBECTL_BINARY, source=binary),),
        entrypoint=(KUBECTL_BINARY,),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registry", required=True, help="host:port of the local registry")
    parser.add_argument("--work", required=True, type=Path, help="a directory for temporary files")
    parser.add_argument("--kubectl", required=True, type=Path, help="the kubectl binary to ship")
    parser.add_argument("--pause", required=True, type=Path, help="the static pause binary to ship")
    args = parser.parse_args()
    env = Environment(
        work=args.work,
        registry=args.registry,
        busybox=static_busybox(),
        pause=args.pause,
        docker_cli=Path(os.devnull),
    )
    for spec in (busybox_image(env, (HELPER_IMAGE,)), pause_image(args.pause), kubectl_image(args.kubectl)):
        build(env, spec)
        print(f"images: pushed {', '.join(spec.names)}")


if __name__ == "__main__":
    main()
