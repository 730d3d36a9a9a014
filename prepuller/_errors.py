"""Exceptions raised by prepuller.

The whole tree::

    ValueError
     └── PrepullerError        bad input: an option, an image reference, a values file
    UserWarning
     └── PrepullerWarning      valid input that does not do what it seems to (e.g. a refresh
                               that can pull nothing again)

Every error names the option (or the values-file key path) and quotes the bad value, so
a message alone tells the user what to fix.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PrepullerError", "PrepullerWarning"]

_MISSING: Any = object()


class PrepullerError(ValueError):
    """Invalid input to prepuller.

    Args:
        option: where the bad value sits, e.g. ``images[2]`` or ``tolerations[0].operator``.
        reason: what is wrong with it, in words.
        value: the bad value itself; quoted in the message with :func:`repr`. Leave it out
            when the reason already says everything (e.g. an empty list).
    """

    def __init__(self, option: str, reason: str, value: Any = _MISSING) -> None:
        self.option = option
        self.reason = reason
        self.value = None if value is _MISSING else value
        self._given = value
        message = f"{option}: {reason}"
        if value is not _MISSING:
            message += f" (got {_quote(value)})"
        super().__init__(message)

    def at(self, option: str) -> PrepullerError:
        """The same error named at ``option`` instead (e.g. a values-file key path): the same
        reason, and the value quoted only if this one quoted it."""
        return PrepullerError(option, self.reason, self._given)


class PrepullerWarning(UserWarning):
    """Options that are valid but do not do what they seem to; the message names the option
    and says what to change. Issued with :func:`warnings.warn` at construction."""


def _quote(value: Any) -> str:
    text = repr(value)
    # Keep messages readable when someone passes a huge structure.
    return text if len(text) <= 200 else text[:197] + "..."
