"""prepuller: a cdk8s construct that pre-pulls container images onto every node.

Public API::

    from prepuller import ImagePrepuller, PrepullerError, images_in

Everything else lives in private modules and may change.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._defaults import HELPER_IMAGE, PAUSE_IMAGE
from ._errors import PrepullerError

if TYPE_CHECKING:
    from ._construct import ImagePrepuller
    from ._tree import images_in

__all__ = ["HELPER_IMAGE", "PAUSE_IMAGE", "ImagePrepuller", "PrepullerError", "images_in"]

# Names whose modules import cdk8s, which starts the jsii Node.js runtime (about 1.5 s, and
# Node.js must be installed): loaded on first use, so that the `prepuller` command, which
# only reads YAML, starts fast and runs without Node.js.
_LAZY = {"ImagePrepuller": "._construct", "images_in": "._tree"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
