"""Dataclasses of options -> argparse, the way CleanRL's ``Args`` become ``--help``: one option per
field, the field's docstring as its help, its type as the parser.

Used by the ``genrl`` command (:mod:`genrl.cli.jobs`) and by the experiment scripts' ``Args``.
Supported field types: ``bool`` (a flag; ``--no-X`` when the default is true), ``int``, ``float``,
``str``, ``Path``, ``Literal[...]`` (choices), ``X | None`` and ``list[X]`` (several values).
Field metadata ``{"choices": "module:attribute"}`` takes the choices from a registry (imported
only when the option is shown or checked), ``{"min": m}`` refuses values below ``m``.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import inspect
import itertools
import json
import textwrap
import types
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from genrl.errors import InputError

T = TypeVar("T")


class RegistryChoices:
    """The names in a registry (``"module:attribute"``), imported on first use, so that building a
    parser (and ``--help`` of the top-level command) costs no heavy import."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        self._names: list[str] | None = None

    def names(self) -> list[str]:
        if self._names is None:
            module, _, attr = self.ref.partition(":")
            obj: Any = importlib.import_module(module)
            for part in attr.split("."):
                obj = getattr(obj, part)
            self._names = list(obj.names() if hasattr(obj, "names") else obj)
        return self._names

    def __contains__(self, value: object) -> bool:
        return value in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def field_docs(cls: type) -> dict[str, str]:
    """The docstring under each field of a dataclass and its bases (a string right after the field)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError):  # no source (e.g. built interactively): no help texts
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, nxt in itertools.pairwise(body):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(nxt, ast.Expr)
                    and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str)):  # fmt: skip
                docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def _at_least(kind: type, minimum: float, option: str) -> Any:
    def parse(text: str) -> Any:
        value = kind(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{option} must be >= {minimum}, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its "invalid value" message
    return parse


def add_dataclass_options(parser: argparse.ArgumentParser, cls: type) -> None:
    """One ``--field-name`` option per field of ``cls`` (fields without a default are required)."""
    hints, docs = get_type_hints(cls), field_docs(cls)
    for f in dataclasses.fields(cls):
        option = f"--{f.name.replace('_', '-')}"
        kind, many = hints[f.name], False
        if get_origin(kind) in (Union, types.UnionType) and type(None) in get_args(kind):  # X | None: parse an X
            kind = next(a for a in get_args(kind) if a is not type(None))
        if get_origin(kind) in (list, tuple):
            kind, many = get_args(kind)[0], True
        kw: dict[str, Any] = {"dest": f.name, "help": docs.get(f.name, "").replace("%", "%%")}
        if f.default is not dataclasses.MISSING:
            kw["default"] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            kw["default"] = f.default_factory()
        else:
            kw["required"] = True
        if kind is bool:
            kw["action"] = argparse.BooleanOptionalAction if kw.get("default") else "store_true"
            parser.add_argument(option, **kw)
            continue
        if get_origin(kind) is Literal:
            kw["choices"], kind = list(get_args(kind)), type(get_args(kind)[0])
        if "choices" in f.metadata:
            # A metavar, and the names only in the help text (formatted on demand): argparse would
            # otherwise list them, and import the registry, as soon as the option is declared.
            kw["choices"], kw["metavar"] = RegistryChoices(f.metadata["choices"]), f.name.upper()
            kw["help"] += "; one of: %(choices)s"
        kw["type"] = _at_least(kind, f.metadata["min"], option) if "min" in f.metadata else kind
        if many:
            kw["nargs"] = "+"
        if kw.get("default") not in (None, [], "") and not kw.get("required"):
            kw["help"] += f" (default: {' '.join(map(str, kw['default'])) if many else kw['default']})"
        if "metavar" not in kw and (kind is Path or (kind is str and "choices" not in kw)):
            kw["metavar"] = "PATH" if kind is Path else f.name.upper()
        parser.add_argument(option, **kw)


def parse_dataclass(cls: type[T], description: str | None, argv: Sequence[str] | None = None) -> T:
    """Parse the command line into ``cls`` (the experiments' ``Args``)."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataclass_options(p, cls)
    return cls(**vars(p.parse_args(argv)))


def dataclass_from(cls: type[T], namespace: argparse.Namespace) -> T:
    """``cls`` from the parsed options that are its fields."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in vars(namespace).items() if k in names})


def parse_variant(spec: str, base: T) -> tuple[str, T]:
    """``"name:field=value,field=value"`` -> (name, ``base`` with those fields replaced), for the
    experiments' recipe searches (see :func:`with_overrides`)."""
    name, _, body = spec.partition(":")
    try:
        return name, with_overrides(base, list(filter(None, body.split(","))))
    except InputError as e:
        raise SystemExit(f"variant {name!r}: {e}") from None


def with_overrides(base: T, items: Sequence[str]) -> T:
    """``base`` (a dataclass) with ``field=value`` items replaced; tuples are written ``128x128``
    (``none`` for an optional one), and a field's annotation decides whether its values are ints or floats."""
    kinds = {f.name: str(f.type) for f in dataclasses.fields(base)}  # type: ignore[arg-type]
    changes: dict[str, object] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if key not in kinds or not eq:
            raise InputError(f"unknown setting {item!r}: write field=value with a field of {sorted(kinds)}")
        try:
            if "bool" in kinds[key]:
                if value not in ("true", "false"):
                    raise ValueError("true or false")
                changes[key] = value == "true"
                continue
            if "None" in kinds[key] and value == "none":
                changes[key] = None
                continue
            number = float if "float" in kinds[key] else int
            changes[key] = tuple(number(v) for v in value.split("x")) if "tuple" in kinds[key] else number(value)
        except ValueError as e:
            raise InputError(f"{key} must be {kinds[key]}, got {value!r} ({e})") from None
    return dataclasses.replace(base, **changes)  # type: ignore[type-var]


def parse_json_variant(spec: str) -> tuple[str, dict[str, Any]]:
    """``"name:{json options}"`` -> (name, options); ``""`` -> ("", {}). For experiments whose
    variants are keyword arguments (e.g. ``make_gail``'s) rather than a dataclass's fields."""
    name, _, body = spec.partition(":")
    try:
        options = json.loads(body) if body else {}
    except json.JSONDecodeError as e:
        raise SystemExit(f"variant {name!r}: options must be a JSON object, got {body!r} ({e})") from None
    if not isinstance(options, dict):
        raise SystemExit(f"variant {name!r}: options must be a JSON object, got {body!r}")
    return name, options
