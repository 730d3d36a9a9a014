"""prepuller: a cdk8s construct that pre-pulls container images onto every node.

Public API::

    from prepuller import ImagePrepuller, PrepullerError, PrepullerWarning, images_in, load_values

Everything else lives in private modules and may change.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._defaults import DOCKER_IMAGE, HELPER_IMAGE, MODES, PAUSE_IMAGE
from ._errors import PrepullerError, PrepullerWarning

if TYPE_CHECKING:
    from ._construct import ImagePrepuller
    from ._tree import images_in
    from ._values import load_values

__all__ = [
    "DOCKER_IMAGE",
    "HELPER_IMAGE",
    "MODES",
    "PAUSE_IMAGE",
    "ImagePrepuller",
    "PrepullerError",
    "PrepullerWarning",
    "images_in",
    "load_values",
]

#: Names whose modules import cdk8s, loaded on first use: importing cdk8s starts the jsii
#: Node.js runtime (about a second, and Node.js must be installed), which the `prepuller`
#: command line (`prepuller images`, `prepuller status` in a CI job with only kubectl)
#: never needs.
_LAZY = {"ImagePrepuller": "._construct", "images_in": "._tree", "load_values": "._values"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
