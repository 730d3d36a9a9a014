"""prepuller: a cdk8s construct that pre-pulls container images onto every node.

Public API::

    from prepuller import ImagePrepuller, PrepullerError

Everything else lives in private modules and may change.
"""

from typing import TYPE_CHECKING, Any

from ._defaults import HELPER_IMAGE, PAUSE_IMAGE
from ._errors import PrepullerError

if TYPE_CHECKING:
    from ._construct import ImagePrepuller

__all__ = ["HELPER_IMAGE", "PAUSE_IMAGE", "ImagePrepuller", "PrepullerError"]


def __getattr__(name: str) -> Any:
    # The construct is imported on first use, not with the package: importing cdk8s starts
    # the jsii Node.js runtime (about a second, and Node.js must be installed), which the
    # `prepuller` command line (`prepuller status` in a CI job with only kubectl) never needs.
    if name == "ImagePrepuller":
        from ._construct import ImagePrepuller

        return ImagePrepuller
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
