"""prepuller: a cdk8s construct that pre-pulls container images onto every node.

Public API::

    from prepuller import ImagePrepuller, PrepullerError, load_values

Everything else lives in private modules and may change.
"""

from ._construct import MODES, ImagePrepuller
from ._defaults import DOCKER_IMAGE, HELPER_IMAGE, PAUSE_IMAGE
from ._errors import PrepullerError
from ._values import load_values

__all__ = ["DOCKER_IMAGE", "HELPER_IMAGE", "MODES", "PAUSE_IMAGE", "ImagePrepuller", "PrepullerError", "load_values"]
