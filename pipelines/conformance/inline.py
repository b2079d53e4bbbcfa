"""Generated object checks for the fast path: one Python function per element definition and type.

A generic object check calls one closure per JSON key, looked up in a dict. Most keys of the hot
datatypes (Money, the adjudication backbone, codes, dates) hold a primitive whose check is one
expression, so the generated function tests the keys with an `if`/`elif` chain and inlines those
expressions: no closure call and no dict lookup per key. Keys not in the chain (ids, extensions,
`_x` primitive extensions, rare elements of big definitions) fall back to the dict of closures, so
every key is checked exactly as before.
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


def _always(value: Any, ctx: Ctx) -> bool:
    return True


SKIP = Handler(_always, skip=True)


@dataclass
class ObjectSpec:
    """What an object check tests, in the order it tests it."""

    handlers: dict[str, Handler]
    primary: frozenset[str]
    groups: list[frozenset[str]]
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
    chain = _chain(spec.handlers)
    rest = {k: h.check for k, h in spec.handlers.items() if k not in chain}
    consts: dict[str, Any] = {
        "get": rest.get,
        "primary": spec.primary,
        "groups": spec.groups,
        "invariants": spec.invariants,
    }
    lines = ["def check(obj, ctx):"]
    if spec.as_item and spec.present:  # a dict holding `present`: not empty, not just an id
        lines += ['    if "resourceType" in obj:', "        return False"]
    elif spec.as_item:  # ele-1 and the JSON shape of a complex value
        lines += [
            '    if type(obj) is not dict or not obj or "resourceType" in obj:',
            "        return False",
            '    if len(obj) == 1 and "id" in obj:',
            "        return False",
        ]
    if spec.primary:
        lines += [
            "    if not primary <= obj.keys():",
            "        for group in groups:",
            "            if group.isdisjoint(obj.keys()):",
            "                return False",
        ]
    lines.append("    for key, value in obj.items():")
    for i, key in enumerate(chain):
        lines.append(f"        {'if' if i == 0 else 'elif'} key == {key!r}:")
        lines += _key_lines(spec.handlers[key], f"k{i}_", consts)
    body = ["h = get(key)", "if h is None or not h(value, ctx):", "    return False"]
    if chain:
        lines.append("        else:")
        lines += [f"            {line}" for line in body]
    else:
        lines += [f"        {line}" for line in body]
    lines += _native_lines(spec, consts)
    if spec.invariants:
        lines += [
            "    for inv in invariants:",
            "        if not inv(obj, ctx):",
            "            return False",
        ]
    for i, post in enumerate(spec.post):
        expr, more = post.source("obj", f"p{i}_")
        consts.update(more)
        lines += [f"    if not ({expr}):", "        return False"]
    lines.append("    return True")
    return _make("\n".join(lines) + "\n", consts, "check")


def _native_lines(spec: ObjectSpec, consts: dict[str, Any]) -> list[str]:
    """Each native invariant as the fast path's wrapper would run it, without the call to it."""
    consts["not_evaluable"] = spec.not_evaluable
    lines: list[str] = []
    for i, (key, native) in enumerate(spec.natives):
        consts[f"n{i}"] = native
        lines += [
            "    try:",
            f"        ok = n{i}(obj, ctx)",
            "    except LookupError:",  # a value set not expanded locally
            "        ok = None",
            "    except (AttributeError, TypeError):",  # a malformed shape: the full walk decides
            "        return False",
            "    if not ok:",
            "        if ok is not None:",
            "            return False",
            f"        not_evaluable.add({key!r})",
        ]
    return lines


def _chain(handlers: dict[str, Handler]) -> list[str]:
    """The keys tested by comparison: the common ones of small definitions."""
    keys = [k for k in handlers if k not in RARE_KEYS and not k.startswith("_")]
    return keys if len(keys) <= CHAIN_MAX else []


def _key_lines(h: Handler, prefix: str, consts: dict[str, Any]) -> list[str]:
    pad = " " * 12
    if h.skip:
        return [f"{pad}pass"]
    if h.inline is None:
        consts[f"{prefix}check"] = h.check
        return [f"{pad}if not {prefix}check(value, ctx):", f"{pad}    return False"]
    if h.array is None:
        expr, more = h.inline.source("value", prefix)
        consts.update(more)
        return [f"{pad}if not ({expr}):", f"{pad}    return False"]
    expr, more = h.inline.source("x", prefix)
    consts.update(more)
    lo, hi = h.array
    lines = [f"{pad}if type(value) is not list or not value:", f"{pad}    return False"]
    if lo > 1 or hi >= 0:
        lines += [f"{pad}if len(value) < {lo} or 0 <= {hi} < len(value):", f"{pad}    return False"]
    return [
        *lines,
        f"{pad}for x in value:",
        f"{pad}    if not ({expr}):",
        f"{pad}        return False",
    ]


def _make(source: str, consts: dict[str, Any], name: str) -> Check:
    namespace = dict(consts)  # the source is ours; JSON keys enter it only through repr()
    exec(compile(source, f"<fastpath {name}>", "exec"), namespace)
    return namespace[name]
