"""prepuller: a cdk8s construct that pre-pulls container images onto every node.

Public API::

    from prepuller import ImagePrepuller, PrepullerError

Everything else lives in private modules and may change.
"""

from ._construct import ImagePrepuller
from ._defaults import HELPER_IMAGE, PAUSE_IMAGE
from ._errors import PrepullerError

__all__ = ["HELPER_IMAGE", "PAUSE_IMAGE", "ImagePrepuller", "PrepullerError"]
