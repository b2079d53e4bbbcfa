"""Generated object checks for the fast path: one Python function per element definition and type.

A generic object check calls one closure per JSON key, looked up in a dict. Most keys of the hot
datatypes (Money, the adjudication backbone, codes, dates) hold a primitive whose check is one
expression, so the generated function tests the keys with an `if`/`elif` chain and inlines those
expressions: no closure call and no dict lookup per key. A complex child that is not memoized
(Money, a Reference) has its own generated statements written in, one level deep. Keys not in the
chain (ids, extensions, `_x` primitive extensions, rare elements of big definitions) fall back to
the dict of closures, so every key is checked exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.conformance.validator import Ctx

Check = Callable[[Any, "Ctx"], bool]

# Beyond this many keys a chain of string comparisons costs more than the dict lookup it saves.
CHAIN_MAX = 10
# Keys that are usually absent: left to the dict so they do not lengthen the chain.
RARE_KEYS = frozenset({"id", "extension", "modifierExtension", "fhir_comments", "resourceType"})


@dataclass(frozen=True)
class Inline:
    """A check as an expression: `{v}` is the value, `{name}` a constant in `consts`."""

    expr: str
    consts: dict[str, Any] = field(default_factory=dict)

    def source(self, value: str, prefix: str) -> tuple[str, dict[str, Any]]:
        """The expression over the variable `value`, its constants renamed with `prefix`."""
        names = {k: f"{prefix}{k}" for k in self.consts}
        consts = {names[k]: c for k, c in self.consts.items()}
        return self.expr.format(v=value, **names), consts

    def compile(self) -> Check:
        """The expression as a stand-alone check (when it is not inlined in an object check)."""
        expr, consts = self.source("value", "c_")
        return _make(f"def check(value, ctx):\n    return {expr}\n", consts, "check")


@dataclass(frozen=True)
class Handler:
    """How the object check treats one key: skip it, inline an expression, or call a check."""

    check: Check
    inline: Inline | None = None
    skip: bool = False
    array: tuple[int, int] | None = None  # (min, max) when the key holds an array of `inline`
    nested: ObjectSpec | None = None  # the spec of `check`, a generated object check, to inline


def _always(value: Any, ctx: Ctx) -> bool:
    return True


SKIP = Handler(_always, skip=True)


@dataclass
class ObjectSpec:
    """What an object check tests, in the order it tests it."""

    handlers: dict[str, Handler]
    # the required elements: each a tuple of keys of which one must be present, the usual first
    required: list[tuple[str, ...]]
    invariants: list[Check]
    as_item: bool
    # a key the caller has seen in the object (which it has checked is a dict): the check can
    # take its presence for granted
    present: str = ""
    # invariants with a native twin, by key: called inline (the others go through `invariants`)
    natives: list[tuple[str, Check]] = field(default_factory=list)
    not_evaluable: set[str] = field(default_factory=set)
    # what must also hold of the whole value (fixed or pattern value, binding, reference target)
    post: list[Inline] = field(default_factory=list)


def build_object_check(spec: ObjectSpec) -> Check:
    """The generated object check for `spec`."""
    consts: dict[str, Any] = {}
    body = _object_lines(spec, "obj", "", consts, nest=True)
    source = "def check(obj, ctx):\n" + "".join(f"    {line}\n" for line in body)
    return _make(source + "    return True\n", consts, "check")


def _object_lines(
    spec: ObjectSpec, obj: str, prefix: str, consts: dict[str, Any], nest: bool
) -> list[str]:
    """Statements that return False if the object in variable `obj` fails `spec`, else fall
    through; `prefix` keeps their variables and constants apart from the enclosing check's."""
    chain = _chain(spec.handlers)
    key, value = f"{prefix}key", f"{prefix}value"
    lines = [*_shape_lines(spec, obj), *_required_lines(spec, obj, prefix, consts)]
    lines.append(f"for {key}, {value} in {obj}.items():")
    for i, k in enumerate(chain):
        lines.append(f"    {'if' if i == 0 else 'elif'} {key} == {k!r}:")
        handler = spec.handlers[k]
        body = _key_lines(handler, value, f"{prefix}k{i}_", consts, nest)
        lines += [f"        {line}" for line in body]
    consts[f"{prefix}get"] = {k: h.check for k, h in spec.handlers.items() if k not in chain}.get
    fallback = [
        f"h = {prefix}get({key})",
        f"if h is None or not h({value}, ctx):",
        "    return False",
    ]
    if chain:
        lines += ["    else:", *(f"        {line}" for line in fallback)]
    else:
        lines += [f"    {line}" for line in fallback]
    lines += _native_lines(spec, obj, prefix, consts)
    if spec.invariants:
        consts[f"{prefix}invariants"] = spec.invariants
        lines += [
            f"for inv in {prefix}invariants:",
            f"    if not inv({obj}, ctx):",
            "        return False",
        ]
    for i, post in enumerate(spec.post):
        expr, more = post.source(obj, f"{prefix}p{i}_")
        consts.update(more)
        lines += [f"if not ({expr}):", "    return False"]
    return lines


def _shape_lines(spec: ObjectSpec, obj: str) -> list[str]:
    if spec.as_item and spec.present:  # a dict holding `present`: not empty, not just an id
        return [f'if "resourceType" in {obj}:', "    return False"]
    if spec.as_item:  # ele-1 and the JSON shape of a complex value
        return [
            f'if type({obj}) is not dict or not {obj} or "resourceType" in {obj}:',
            "    return False",
            f'if len({obj}) == 1 and "id" in {obj}:',
            "    return False",
        ]
    return []


def _required_lines(spec: ObjectSpec, obj: str, prefix: str, consts: dict[str, Any]) -> list[str]:
    required = spec.required
    if not required:
        return []
    if len(required) <= 3 and all(len(keys) <= 4 for keys in required):
        # a few `in` tests are cheaper than building a keys view for a subset test
        return [
            line
            for keys in required
            for line in (
                f"if {' and '.join(f'{k!r} not in {obj}' for k in keys)}:",
                "    return False",
            )
        ]
    consts[f"{prefix}primary"] = frozenset(keys[0] for keys in required)
    consts[f"{prefix}groups"] = [frozenset(keys) for keys in required]
    return [
        f"if not {prefix}primary <= {obj}.keys():",
        f"    for group in {prefix}groups:",
        f"        if group.isdisjoint({obj}.keys()):",
        "            return False",
    ]


def _native_lines(spec: ObjectSpec, obj: str, prefix: str, consts: dict[str, Any]) -> list[str]:
    """Each native invariant as the fast path's wrapper would run it, without the call to it."""
    consts["not_evaluable"] = spec.not_evaluable
    lines: list[str] = []
    for i, (key, native) in enumerate(spec.natives):
        name = f"{prefix}n{i}"
        consts[name] = native
        lines += [
            "try:",
            f"    ok = {name}({obj}, ctx)",
            "except LookupError:",  # a value set not expanded locally
            "    ok = None",
            "except (AttributeError, TypeError):",  # a malformed shape: the full walk decides
            "    return False",
            "if not ok:",
            "    if ok is not None:",
            "        return False",
            f"    not_evaluable.add({key!r})",
        ]
    return lines


def _chain(handlers: dict[str, Handler]) -> list[str]:
    """The keys tested by comparison: the common ones of small definitions."""
    keys = [k for k in handlers if k not in RARE_KEYS and not k.startswith("_")]
    return keys if len(keys) <= CHAIN_MAX else []


def _key_lines(
    h: Handler, value: str, prefix: str, consts: dict[str, Any], nest: bool
) -> list[str]:
    if h.skip:
        return ["pass"]
    if h.nested is not None and nest:  # one level only: specs can be recursive
        inner = f"{prefix}obj"
        return [f"{inner} = {value}", *_object_lines(h.nested, inner, prefix, consts, False)]
    if h.inline is None:
        consts[f"{prefix}check"] = h.check
        return [f"if not {prefix}check({value}, ctx):", "    return False"]
    if h.array is None:
        expr, more = h.inline.source(value, prefix)
        consts.update(more)
        return [f"if not ({expr}):", "    return False"]
    item = f"{prefix}x"
    expr, more = h.inline.source(item, prefix)
    consts.update(more)
    lo, hi = h.array
    lines = [f"if type({value}) is not list or not {value}:", "    return False"]
    if lo > 1 or hi >= 0:
        lines += [f"if len({value}) < {lo} or 0 <= {hi} < len({value}):", "    return False"]
    return [*lines, f"for {item} in {value}:", f"    if not ({expr}):", "        return False"]


def _make(source: str, consts: dict[str, Any], name: str) -> Check:
    namespace = dict(consts)  # the source is ours; JSON keys enter it only through repr()
    exec(compile(source, f"<fastpath {name}>", "exec"), namespace)
    return namespace[name]
