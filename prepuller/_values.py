"""Values files: YAML in the Helm chart's format plus our own keys, merged as ``helm -f``.

Steps, each failing with a :class:`PrepullerError` that names the file, the key path and
the value:

1. read each file (UTF-8 YAML, one document, a mapping; duplicate keys refused);
2. check it against the JSON Schema shipped in the package (``schema/values.schema.json``):
   unknown keys, wrong types;
3. merge left to right as ``helm -f a.yml -f b.yml`` does: mappings merge key by key,
   recursively; lists, scalars and ``null`` replace;
4. turn the result into ``ImagePrepuller`` keyword arguments: our keys are the camelCase
   forms of the arguments (``nodeSelector`` → ``node_selector``), mapped mechanically, so a
   new option needs only a schema entry; ``docker.images``/``docker.hostPath`` become
   ``images``/``docker_host_path`` and imply ``mode: docker`` unless ``mode`` is set; a
   top-level ``null`` means "the default" (the key is dropped);
5. pass them through the construct's own validators (a throwaway ``ImagePrepuller``), so a
   values file is refused for exactly what the construct refuses, with the same words.

``docker.images`` and ``images`` in the same merged result is an error, not a merge: the
two spellings of one list would otherwise silently shadow each other depending on file
order. The same holds for ``docker.hostPath`` and ``dockerHostPath``.

Why the libraries: PyYAML (the reference YAML parser for Python, with line/column marks)
and jsonschema (the reference JSON Schema validator) are runtime dependencies; the schema is
data that also generates the documentation, so hand-written checks would duplicate it.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import cdk8s
import jsonschema
import yaml

from ._construct import ImagePrepuller
from ._errors import PrepullerError

__all__ = ["load_values", "merge_values", "reference_table", "values_schema", "values_without_lock"]

#: The chart's keys under ``docker`` and the keyword arguments they stand for.
_CHART_KEYS = {"images": "images", "hostPath": "docker_host_path"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NOUNS = {"object": "mapping"}
_TYPE_WORDS = {
    "array": "a list",
    "object": "a mapping",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
}


@functools.cache
def values_schema() -> dict[str, Any]:
    """The JSON Schema of one values file (``prepuller/schema/values.schema.json``)."""
    text = resources.files("prepuller").joinpath("schema/values.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_values(*paths: str | os.PathLike[str]) -> dict[str, Any]:
    """Read values files, merge them left to right, return ``ImagePrepuller`` keyword arguments.

    Args:
        paths: YAML values files, in ``helm -f`` order (later files win).

    Returns:
        The keyword arguments (``images``, ``mode``, ``node_selector``, ...), only those the
        files set; pass them as ``ImagePrepuller(chart, "prepull", **values)``.

    Raises:
        PrepullerError: a file cannot be read or parsed, breaks the schema, or sets a value
            the construct refuses; the message names the file(s), the key path and the value.
    """
    return _load(paths, lock=True)


def values_without_lock(*paths: str | os.PathLike[str]) -> dict[str, Any]:
    """:func:`load_values` less the ``lock`` key, which is not read: what ``prepuller lock -f``
    needs to find the images to lock before the lock file exists."""
    return _load(paths, lock=False)


def _load(paths: Sequence[str | os.PathLike[str]], *, lock: bool) -> dict[str, Any]:
    if not paths:
        raise PrepullerError("load_values", "needs at least one values file")
    layers = [(str(path), _read(Path(path))) for path in paths]
    merged: dict[str, Any] = {}
    for _, layer in layers:
        merged = merge_values(merged, layer)
    origin = _Origin(layers, merged)
    values, sources = _keyword_arguments(merged, origin)
    if not lock:
        values.pop("lock", None)
    _check_with_construct(values, sources, origin)
    return values


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``helm -f base -f override``: mappings merge recursively; anything else in
    ``override`` (lists, scalars, ``null``) replaces what ``base`` has. Inputs are not changed."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


# --- one file ---------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key written twice in one mapping (PyYAML keeps the
    last one silently, which would hide a mistake in a long image list)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<` merge keys may override on purpose; complex keys fail the schema
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                continue
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"found duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A plain scalar shaped like a date that is no date (``2024-13-45``): PyYAML raises a
        bare ValueError; this names the value and where it is."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as error:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is written as a date but is none ({error}); quote it", node.start_mark
            ) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


def _read(path: Path) -> dict[str, Any]:
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise PrepullerError(where, f"is not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise PrepullerError(where, f"cannot be read: {error.strerror or error}") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: safe
    except yaml.MarkedYAMLError as error:
        raise PrepullerError(where, f"is not valid YAML: {_yaml_problem(error)}") from None
    except RecursionError:  # PyYAML composes nested collections recursively
        raise PrepullerError(where, "is not valid YAML: its lists or mappings are nested too deeply") from None
    except yaml.reader.ReaderError as error:  # a control character; PyYAML gives its offset, not a mark
        before = text[: error.position]
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        problem = f"unacceptable character #x{error.character:04x}: {error.reason} at line {line}, column {column}"
        raise PrepullerError(where, f"is not valid YAML: {problem}") from None
    if data is None:  # an empty file, as Helm reads it: no values
        return {}
    if not isinstance(data, dict):
        raise PrepullerError(where, "must be a mapping of values keys (e.g. 'images: [...]')", data)
    _check_schema(where, data)
    return data


def _yaml_problem(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    problem = error.problem or error.context or "cannot be parsed"
    if error.context and problem.startswith("but "):  # "expected a single document ..., but found another"
        problem = f"{error.context}, {problem}"
    if mark is None:
        return problem
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"


def _check_schema(where: str, data: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(values_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(part) for part in e.absolute_path])
    if errors:
        raise _schema_error(where, errors[0])


def _schema_error(where: str, error: jsonschema.ValidationError) -> PrepullerError:
    path = list(error.absolute_path)
    # The stubs type these as "maybe unset"; for an error from iter_errors they are set.
    schema: Any = error.schema
    expected: Any = error.validator_value
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = list(schema.get("properties", {}))
        extra = [key for key in error.instance if key not in known]
        key = extra[0]
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys here: {', '.join(known)}"
        reason = f"is not a known key; {hint}"
        return PrepullerError(f"{where}: {key_path([*path, key])}", reason, error.instance[key])
    if error.validator == "type":
        kinds: list[str] = expected if isinstance(expected, list) else [expected]
        words = [_TYPE_WORDS.get(kind, kind) for kind in kinds if kind != "null"]
        reason = f"must be {' or '.join(words)}"
    elif error.validator == "enum":
        reason = f"must be one of {', '.join(repr(choice) for choice in expected if choice is not None)}"
    elif error.validator == "minItems":
        reason = "must not be empty"
    else:  # a keyword the schema may gain later: jsonschema's own words
        reason = error.message
    return PrepullerError(f"{where}: {key_path(path)}", reason, error.instance)


def key_path(parts: Sequence[Any]) -> str:
    """``docker.images[2]``, ``labels['app.kubernetes.io/name']``: how messages name a key."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and _IDENTIFIER.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text or "(top level)"


# --- merged values → keyword arguments ----------------------------------------------------


class _Origin:
    """Which files set a key of the merged values, to name them in messages."""

    def __init__(self, layers: list[tuple[str, dict[str, Any]]], merged: dict[str, Any]) -> None:
        self._layers = layers
        self._merged = merged

    def all_files(self) -> list[str]:
        return [where for where, _ in self._layers]

    def files(self, *keys: str) -> list[str]:
        """The files a key (``images``, or ``docker`` then ``images``) comes from: the last
        that set it, or every one that contributed when the value is a merged mapping."""
        setters = [where for where, layer in self._layers if _has(layer, keys)]
        if isinstance(_get(self._merged, keys), Mapping):
            return setters
        return setters[-1:]


def _has(values: Mapping[str, Any], keys: Sequence[str]) -> bool:
    for key in keys:
        if not isinstance(values, Mapping) or key not in values:
            return False
        values = values[key]
    return True


def _get(values: Any, keys: Sequence[str]) -> Any:
    for key in keys:
        values = values.get(key) if isinstance(values, Mapping) else None
    return values


def snake_case(key: str) -> str:
    """``nodeSelector`` → ``node_selector``: a values key to its keyword argument."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _keyword_arguments(merged: dict[str, Any], origin: _Origin) -> tuple[dict[str, Any], dict[str, tuple[str, ...]]]:
    """The keyword arguments, and for each the key (as a path) it was read from."""
    values: dict[str, Any] = {}
    sources: dict[str, tuple[str, ...]] = {}
    for key, value in merged.items():
        if key != "docker" and value is not None:
            values[snake_case(key)] = value
            sources[snake_case(key)] = (key,)
    if isinstance(values.get("lock"), str):
        # Relative to the values file that sets it, as the file is usually kept beside it.
        values["lock"] = os.path.join(os.path.dirname(origin.files("lock")[-1]), values["lock"])
    docker = merged.get("docker") or {}
    for chart_key, argument in _CHART_KEYS.items():
        value = docker.get(chart_key)
        if value is None:
            continue
        if argument in values:
            ours = sources[argument][0]
            files = _describe(origin.files("docker", chart_key) + origin.files(ours))
            raise PrepullerError(
                f"{files}: docker.{chart_key}",
                f"cannot be combined with {ours!r}: they are the same setting (the chart's key and ours); keep one",
                value,
            )
        values[argument] = value
        sources[argument] = ("docker", chart_key)
        values.setdefault("mode", "docker")
        sources.setdefault("mode", ("docker", chart_key))
    if "images" not in values:
        files = _describe(origin.all_files())
        raise PrepullerError(f"{files}: images", "is required: set 'docker.images' (the chart's key) or 'images'")
    return values, sources


def _check_with_construct(values: dict[str, Any], sources: dict[str, tuple[str, ...]], origin: _Origin) -> None:
    """Build a throwaway ``ImagePrepuller`` (never synthesized): its validators are the
    single place each option is checked, so a values file gets the same checks and words."""
    try:
        ImagePrepuller(cdk8s.Chart(cdk8s.App(), "values"), "prepull", **values)
    except PrepullerError as error:
        match = re.match(r"^([a-z_]+)(.*)$", error.option, flags=re.DOTALL)
        argument, rest = (match[1], match[2]) if match else (error.option, "")
        keys = sources.get(argument)
        if keys is None:  # not an option we passed (cannot happen with the schema's keys)
            raise
        where = _describe(origin.files(*keys))
        raise error.at(f"{where}: {key_path(keys)}{rest}") from None


def _describe(files: list[str]) -> str:
    return ", ".join(dict.fromkeys(files))


# --- documentation ------------------------------------------------------------------------


def reference_table() -> str:
    """The values-file reference as a Markdown table, generated from the schema (the docs
    embed it; a test fails when they differ)."""
    rows = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for key, prefix, spec in _schema_entries():
        default = f"`{json.dumps(spec['default'])}`" if "default" in spec else "—"
        rows.append(f"| `{prefix}{key}` | {_type_text(spec)} | {default} | {spec['description']} |")
    return "\n".join(rows) + "\n"


def _schema_entries() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for key, spec in values_schema()["properties"].items():
        if key == "docker":
            for chart_key, chart_spec in spec["properties"].items():
                yield chart_key, "docker.", chart_spec
        else:
            yield key, "", spec


def _type_text(spec: Mapping[str, Any]) -> str:
    if "enum" in spec:
        return "one of " + ", ".join(f"`{choice}`" for choice in spec["enum"] if choice is not None)
    kinds = [kind for kind in spec["type"] if kind != "null"]
    words = []
    for kind in kinds:
        if kind == "array":
            words.append(f"list of {_NOUNS.get(spec['items']['type'], spec['items']['type'])}s")
        elif kind == "object" and isinstance(spec.get("additionalProperties"), Mapping):
            words.append(f"mapping of {spec['additionalProperties']['type']}s")
        else:
            words.append(_NOUNS.get(kind, kind))
    return " or ".join(words)
