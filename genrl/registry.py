"""A tiny name -> object registry (one per kind of pluggable piece)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from genrl.errors import InputError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to objects; refuses duplicates and names the choices on a miss.

    :param kind: what the entries are, used in error messages (e.g. ``"GAN loss"``).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise KeyError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise InputError(f"unknown {self.kind} {name!r}; choose one of {sorted(self._entries)}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def names(self) -> list[str]:
        return list(self._entries)
