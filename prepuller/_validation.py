"""Validators for the construct's options: one function per kind of value.

Each returns a clean copy of what it accepts (plain ``dict``/``list``/``str``) and raises
:class:`PrepullerError` naming the option and quoting the value otherwise. The Kubernetes
rules are transcribed from ``k8s.io/apimachinery/pkg/util/validation``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_UP, Context, Decimal
from typing import Any, TypeVar

from ._errors import PrepullerError

T = TypeVar("T")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_QUANTITY = re.compile(
    r"^\+?(?P<number>[0-9]+(\.[0-9]*)?|\.[0-9]+)(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
}
_PERCENT = re.compile(r"^([0-9]+)%$")
#: What YAML cannot carry raw (outside its printable set), plus YAML 1.1's extra line breaks.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")
#: Quantity arithmetic without overflow or rounding for any quantity the regex admits
#: (``Decimal(10) ** 999999999`` under the default context raises ``decimal.Overflow``).
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_QUANTITY_MAX = Decimal(2**63 - 1)
#: The API server keeps quantities to the nano (``resource.Nano``).
_NANO = Decimal("1e-9")

#: Kubernetes' ``int32`` fields (``maxUnavailable``) hold at most this.
INT32_MAX = 2**31 - 1
#: The largest integer cdk8s writes exactly: its synthesis runs in JavaScript, whose numbers
#: are doubles, so a bigger ``int64`` (``tolerationSeconds``) would change silently.
JS_SAFE_INTEGER = 2**53 - 1


def string(value: object, option: str) -> str:
    if not isinstance(value, str):
        raise PrepullerError(option, "must be a string", value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate: YAML output is UTF-8, so it would be replaced or refused at synth.
        raise PrepullerError(option, "must be valid Unicode text (it holds a lone surrogate)", value) from None
    if _UNPRINTABLE.search(value):
        # cdk8s writes these unescaped: YAML readers (kubectl's included) refuse the file, or
        # (NEL, U+2028, U+2029) read a line break instead.
        raise PrepullerError(
            option,
            "must be printable text: no control characters (tab, newline and CR are fine) or line separators",
            value,
        )
    return value


def boolean(value: object, option: str) -> bool:
    if not isinstance(value, bool):
        raise PrepullerError(option, "must be true or false", value)
    return value


def integer(value: object, option: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PrepullerError(option, "must be a whole number", value)
    if minimum is not None and value < minimum:
        raise PrepullerError(option, f"must be at least {minimum}", value)
    if maximum is not None and value > maximum:
        raise PrepullerError(option, f"must be at most {maximum}", value)
    return value


def one_of(value: object, option: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise PrepullerError(option, f"must be one of {', '.join(repr(c) for c in choices)}", value)
    return value


def dns_label(value: object, option: str, *, max_length: int = 63) -> str:
    """A DNS-1123 label: what names of namespaces, containers and label-able objects must be."""
    text = string(value, option)
    if len(text) > max_length or not _DNS_LABEL.fullmatch(text):
        raise PrepullerError(
            option,
            f"must be a DNS-1123 label: at most {max_length} lowercase letters, digits and '-', "
            "starting and ending with a letter or digit",
            value,
        )
    return text


def dns_subdomain(value: object, option: str) -> str:
    """A DNS-1123 subdomain: what names of most objects (secrets, priority classes) must be."""
    text = string(value, option)
    if len(text) > 253 or not _DNS_SUBDOMAIN.fullmatch(text):
        raise PrepullerError(
            option,
            "must be a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit",
            value,
        )
    return text


def sequence(value: object, option: str, item: Callable[[object, str], T], *, allow_empty: bool = True) -> list[T]:
    """A list of items; a bare string is refused rather than read as a list of characters."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise PrepullerError(option, "must be a list", value)
    if not allow_empty and len(value) == 0:
        raise PrepullerError(option, "must not be empty", value)
    return [item(element, f"{option}[{index}]") for index, element in enumerate(value)]


def mapping(value: object, option: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise PrepullerError(option, "must be a mapping", value)
    return value


def known_keys(value: Mapping[Any, Any], option: str, allowed: Sequence[str]) -> None:
    for key in value:
        if key not in allowed:
            raise PrepullerError(
                f"{option}.{key}" if isinstance(key, str) else option,
                f"is not a known field (known: {', '.join(allowed)})",
                key,
            )


def label_key(value: object, option: str) -> str:
    """A qualified name with an optional DNS-subdomain prefix: label and annotation keys."""
    text = string(value, option)
    prefix, _, name = text.rpartition("/")
    valid = 0 < len(name) <= 63 and bool(_QUALIFIED_NAME.fullmatch(name))
    if prefix or "/" in text:
        valid = valid and len(prefix) <= 253 and bool(_DNS_SUBDOMAIN.fullmatch(prefix))
    if not valid:
        raise PrepullerError(
            option,
            "must be a label key: an optional DNS subdomain prefix and '/', then at most 63 "
            "letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
            value,
        )
    return text


def label_value(value: object, option: str) -> str:
    text = string(value, option)
    if text and (len(text) > 63 or not _QUALIFIED_NAME.fullmatch(text)):
        raise PrepullerError(
            option,
            "must be a label value: empty, or at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit",
            value,
        )
    return text


def label_map(value: object, option: str) -> dict[str, str]:
    """Labels (also node selectors): keys and values checked as Kubernetes checks them."""
    result = {}
    for key, item in mapping(value, option).items():
        checked_key = label_key(key, f"{option} key")
        result[checked_key] = label_value(item, f"{option}[{key!r}]")
    return result


def annotation_map(value: object, option: str) -> dict[str, str]:
    """Annotations: keys like label keys, values any string (256 KiB in all at most)."""
    result = {}
    for key, item in mapping(value, option).items():
        checked_key = label_key(key, f"{option} key")
        result[checked_key] = string(item, f"{option}[{key!r}]")
    # The API server counts bytes of UTF-8, not characters.
    if sum(len(k.encode()) + len(v.encode()) for k, v in result.items()) > 256 * 1024:
        raise PrepullerError(option, "must be at most 256 KiB in total", f"{len(result)} annotations")
    return result


def quantity(value: object, option: str) -> str:
    """A Kubernetes resource quantity (``100m``, ``64Mi``, ``0.5``); an int is accepted."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise PrepullerError(option, "must be a quantity such as '10m' or '64Mi'", value)
    text = str(value)
    if not _QUANTITY.fullmatch(text):
        raise PrepullerError(option, "must be a quantity such as '10m' or '64Mi'", value)
    if quantity_value(text) > _QUANTITY_MAX:
        raise PrepullerError(option, "must be at most 2^63-1 (the kubelet's int64 range)", value)
    return text


def quantity_value(text: str) -> Decimal:
    """The number a valid quantity stands for, to compare requests with limits.

    As the API server reads it (``resource.ParseQuantity``): to the nano, a finer non-zero
    value rounded up (``0.1n`` and ``1e-60`` are both ``1n``).
    """
    match = _QUANTITY.fullmatch(text)
    assert match is not None, text
    number = _EXACT.create_decimal(match["number"])
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        number = _EXACT.multiply(number, _BINARY[suffix])
    elif suffix in _DECIMAL:
        number = _EXACT.multiply(number, _DECIMAL[suffix])
    elif suffix:  # an exponent: e3, E-2
        # Shifted by more places than the number has characters, plus 20, a non-zero number is
        # above 10**20 (so beyond int64) or below 10**-20 (so 1n): clamped, it compares the same.
        bound = len(match["number"]) + 20
        number = number.scaleb(max(-bound, min(bound, int(suffix[1:]))), _EXACT)
    return number.quantize(_NANO, rounding=ROUND_UP, context=_EXACT)


def int_or_percent(value: object, option: str) -> int | str:
    """``maxUnavailable``-style values: a whole number of at least 1, or ``'1%'``…``'100%'``."""
    if isinstance(value, str):
        match = _PERCENT.fullmatch(value)
        if match and 1 <= int(match[1]) <= 100:
            return value
        raise PrepullerError(option, "must be a whole number of at least 1 or a percentage from '1%' to '100%'", value)
    return integer(value, option, minimum=1, maximum=INT32_MAX)
