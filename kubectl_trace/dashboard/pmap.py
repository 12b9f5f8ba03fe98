"""A small persistent (immutable) map with structural sharing, for snapshots of thousands of objects.

Keys are spread over a fixed number of shards (plain dicts that are never mutated once
published). Setting one key copies one shard (about ``len / 64`` entries) and the tuple of
shard references, so a new snapshot after one pod change shares almost everything with
the previous one. ``evolver()`` applies a batch of changes copying each touched shard once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar, overload

__all__ = ["PMap"]

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")
_SHARDS = 64
_EMPTY_SHARDS: tuple[dict[Any, Any], ...] = tuple({} for _ in range(_SHARDS))


class PMap(Mapping[K, V], Generic[K, V]):
    """An immutable mapping; ``set``/``delete``/``evolver`` return new maps sharing structure."""

    __slots__ = ("_len", "_shards")

    def __init__(self, items: Iterable[tuple[K, V]] | Mapping[K, V] = ()) -> None:
        source = items.items() if isinstance(items, Mapping) else items
        shards: list[dict[K, V]] = [{} for _ in range(_SHARDS)]
        for key, value in source:
            shards[hash(key) % _SHARDS][key] = value
        self._shards: tuple[dict[K, V], ...] = tuple(shards)
        self._len = sum(len(s) for s in shards)

    @classmethod
    def _make(cls, shards: tuple[dict[K, V], ...], length: int) -> PMap[K, V]:
        new = cls.__new__(cls)
        new._shards = shards
        new._len = length
        return new

    @classmethod
    def empty(cls) -> PMap[K, V]:
        """The empty map."""
        return cls._make(_EMPTY_SHARDS, 0)

    # -- Mapping ------------------------------------------------------------------------

    def __getitem__(self, key: K) -> V:
        return self._shards[hash(key) % _SHARDS][key]

    @overload
    def get(self, key: K, /) -> V | None: ...
    @overload
    def get(self, key: K, default: V, /) -> V: ...
    @overload
    def get(self, key: K, default: T, /) -> V | T: ...

    def get(self, key: K, default: object = None) -> object:
        """``self[key]`` or ``default``."""
        return self._shards[hash(key) % _SHARDS].get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._shards[hash(key) % _SHARDS]

    def __iter__(self) -> Iterator[K]:
        for shard in self._shards:
            yield from shard

    def values(self) -> list[V]:  # type: ignore[override]
        """The values (a list: no per-key lookups)."""
        out: list[V] = []
        for shard in self._shards:
            out.extend(shard.values())
        return out

    def items(self) -> list[tuple[K, V]]:  # type: ignore[override]
        """The items (a list: no per-key lookups)."""
        out: list[tuple[K, V]] = []
        for shard in self._shards:
            out.extend(shard.items())
        return out

    def shards(self) -> tuple[Mapping[K, V], ...]:
        """The shards themselves, read-only.

        An unchanged shard is the same object in every version of the map, so per-shard
        results can be memoised on identity.
        """
        return self._shards

    def __len__(self) -> int:
        return self._len

    def __repr__(self) -> str:
        return f"PMap({dict(self.items())!r})"

    # -- persistent updates ---------------------------------------------------------------

    def set(self, key: K, value: V) -> PMap[K, V]:
        """A map with ``key`` set to ``value`` (this one is unchanged)."""
        index = hash(key) % _SHARDS
        shard = self._shards[index]
        if key in shard and shard[key] is value:
            return self
        grown = 0 if key in shard else 1
        new_shard = dict(shard)
        new_shard[key] = value
        shards = list(self._shards)
        shards[index] = new_shard
        return PMap._make(tuple(shards), self._len + grown)

    def delete(self, key: K) -> PMap[K, V]:
        """A map without ``key`` (the same map when it is absent)."""
        index = hash(key) % _SHARDS
        shard = self._shards[index]
        if key not in shard:
            return self
        new_shard = dict(shard)
        del new_shard[key]
        shards = list(self._shards)
        shards[index] = new_shard
        return PMap._make(tuple(shards), self._len - 1)

    def evolver(self) -> PMapEvolver[K, V]:
        """A builder applying many changes, copying each touched shard once."""
        return PMapEvolver(self)


class PMapEvolver(Generic[K, V]):
    """Batch changes to a ``PMap``; ``persistent()`` returns the new map."""

    __slots__ = ("_base", "_copied", "_len", "_shards")

    def __init__(self, base: PMap[K, V]) -> None:
        self._base = base
        self._shards = list(base._shards)
        self._copied: set[int] = set()
        self._len = base._len

    def _shard(self, index: int) -> dict[K, V]:
        if index not in self._copied:
            self._shards[index] = dict(self._shards[index])
            self._copied.add(index)
        return self._shards[index]

    def get(self, key: K, default: V | None = None) -> V | None:
        """The current value of ``key``."""
        return self._shards[hash(key) % _SHARDS].get(key, default)

    def set(self, key: K, value: V) -> None:
        """Set ``key``."""
        shard = self._shard(hash(key) % _SHARDS)
        if key not in shard:
            self._len += 1
        shard[key] = value

    def delete(self, key: K) -> None:
        """Remove ``key`` if present."""
        index = hash(key) % _SHARDS
        if key not in self._shards[index]:
            return
        del self._shard(index)[key]
        self._len -= 1

    def persistent(self) -> PMap[K, V]:
        """The map with every change applied (the original when nothing changed)."""
        if not self._copied:
            return self._base
        self._copied = set()  # later changes copy again: the published shards stay untouched
        self._base = PMap._make(tuple(self._shards), self._len)
        return self._base
