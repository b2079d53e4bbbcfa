"""The fast path: per element definition, a closure that answers "would the full walk find nothing?".

Most resources are valid, so the validator first runs these closures (no paths, no messages, set
operations for required and unknown keys); only when one says no does it run the full walk that
builds the issues. Root-level warning invariants (e.g. dom-6) are reported directly, since their path
is the resource itself. Object checks are generated code (`inline.py`). `test_fastpath.py` and
`test_fastpath_eob.py` in tests/conformance check both paths agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from pipelines.conformance.inline import SKIP, Handler, Inline, ObjectSpec, build_object_check
from pipelines.conformance.native_invariants import native_for
from pipelines.conformance.rules import Node

if TYPE_CHECKING:
    from pipelines.conformance.validator import Ctx, Validator

Check = Callable[[Any, "Ctx"], bool]
# Datatypes that repeat across resources (codes, identifier types, quantities, service periods):
# memoized by JSON text.
MEMO_TYPES = frozenset({"CodeableConcept", "Coding", "Identifier", "Period", "Quantity"})
MEMO_LIMIT = 2_000


def _never(value: Any, ctx: Ctx) -> bool:
    return False


def _with_values(inline: Inline, fixed: Any, pattern: Any) -> Inline:
    """`inline` and the element's fixed and pattern values (a primitive pattern is an equality)."""
    expr, consts = inline.expr, dict(inline.consts)
    if fixed is not None:
        expr, consts["fixed"] = f"{expr} and {{v}} == {{fixed}}", fixed
    if pattern is not None:
        expr, consts["pattern"] = f"{expr} and {{v}} == {{pattern}}", pattern
    return Inline(expr, consts)


class FastPath:
    """Builds and caches the closures; owned by one Validator."""

    def __init__(self, validator: Validator) -> None:
        self.v = validator
        self._objects: dict[tuple[int, str, bool], Check] = {}
        self._items: dict[tuple[int, str], Check] = {}
        self._inlines: dict[tuple[int, str], Inline] = {}
        self._strings: dict[str, Inline] = {}
        self._specs: dict[tuple[int, str], ObjectSpec] = {}

    # ------------------------------------------------------------ objects
    def object_check(self, node: Node, tcode: str, is_root: bool = False) -> Check:
        key = (id(node), tcode, is_root)
        fn = self._objects.get(key)
        if fn is None:
            self._objects[key] = self._lazy(node, tcode, is_root)  # recursion guard
            fn = self._build_object(node, tcode, is_root)
            self._objects[key] = fn
        return fn

    def _lazy(self, node: Node, tcode: str, is_root: bool) -> Check:
        def fn(obj: Any, ctx: Ctx) -> bool:
            return self._objects[(id(node), tcode, is_root)](obj, ctx)

        return fn

    def _build_object(
        self,
        node: Node,
        tcode: str,
        is_root: bool,
        as_item: bool = False,
        skip: str = "",
        post: list[Inline] | None = None,
    ) -> Check:
        return build_object_check(self._object_spec(node, tcode, is_root, as_item, skip, post))

    def _object_spec(
        self,
        node: Node,
        tcode: str,
        is_root: bool,
        as_item: bool = False,
        skip: str = "",
        post: list[Inline] | None = None,
    ) -> ObjectSpec:
        """The object check; `as_item` folds in the checks on the value itself (one call less).

        `skip` names a key whose value the caller has already checked (a slice discriminator), in
        an object the caller has seen is a dict holding that key; `post` are checks on the whole
        value, after its keys and invariants.
        """
        plan = self.v._plan(node, tcode, is_root)
        handlers: dict[str, Handler] = {}
        for key, (child, t, _primitive) in plan.keys.items():
            handlers[key] = SKIP if key == skip else self._handler(child, t)
        element = self.v.rules.base_type("Element")
        prim_ext = self.item_check(element.root, "Element") if element and element.root else _never
        for key in plan.primitive_keys:
            handlers["_" + key] = Handler(self._primitive_extension_check(prim_ext))
        if is_root:
            handlers["resourceType"] = SKIP
        handlers["fhir_comments"] = SKIP
        natives, invariants = self._invariant_checks(plan.invs, plan.type_path, is_root)
        return ObjectSpec(
            handlers=handlers,
            # each is (value key, `_` key, other choice keys...); usually the value key is there.
            # The caller of a check with `skip` has seen that key in the object: it meets its group
            required=[keys for _child, keys in plan.required if not skip or skip not in keys],
            invariants=invariants,
            as_item=as_item,
            present=skip,
            natives=natives,
            not_evaluable=self.v.not_evaluable,
            post=post or [],
        )

    def _invariant_checks(
        self, keys: tuple[str, ...], type_path: str, is_root: bool
    ) -> tuple[list[tuple[str, Check]], list[Check]]:
        """(key, native twin) of the invariants the object check can run inline, and a check for
        each of the others (FHIRPath ones, and warnings reported on the resource itself)."""
        v = self.v
        natives: list[tuple[str, Check]] = []
        out: list[Check] = []
        for key in keys:
            inv = v.rules.invariants[key]
            expression, severity = inv["expression"], inv["severity"]
            native = native_for(expression)
            warn_here = is_root and severity != "error"
            if native is not None and not warn_here:
                natives.append((key, native))
                continue
            message = f"{inv['key']}: {inv['human']} [{expression}]"

            def check(
                obj: Any,
                ctx: Ctx,
                key: str = key,
                native: Any = native,
                expression: str = expression,
                warn_here: bool = warn_here,
                message: str = message,
            ) -> bool:
                ok = None
                if native is not None:
                    try:
                        ok = native(obj, ctx)
                    except LookupError:
                        ok = None
                    except (AttributeError, TypeError):
                        return False
                else:
                    ok = v.engine.evaluate(expression, obj, type_path, ctx.resource, ctx.root)
                if ok is None:
                    v.not_evaluable.add(key)
                    return True
                if ok:
                    return True
                if warn_here:
                    ctx.add("warning", "invariant", ctx.resource["resourceType"], message)
                    return True
                return False

            out.append(check)
        return natives, out

    # ----------------------------------------------------------- elements
    def _element_check(self, child: Node, tcode: str) -> Check:
        return self._handler(child, tcode).check

    def _handler(self, child: Node, tcode: str) -> Handler:
        """The check of one key's value, with its inline form when it is a simple primitive."""
        if child.max == 0:
            return Handler(_never)
        if child.slicing is not None and child.slices:
            return Handler(self._sliced_check(child, tcode))
        item = self.item_check(child, tcode)
        inline = self._inlines.get((id(child), tcode))
        if not child.arr:
            return Handler(item, inline, nested=self._specs.get((id(child), tcode)))
        lo, hi = child.min, child.max

        def array(value: Any, ctx: Ctx) -> bool:
            if type(value) is not list or not value:
                return False
            n = len(value)
            if n < lo or 0 <= hi < n:
                return False
            for x in value:  # noqa: SIM110 - a plain loop is faster than all() on the hot path
                if not item(x, ctx):
                    return False
            return True

        return Handler(array, inline, array=(lo, hi) if inline is not None else None)

    def _sliced_check(self, node: Node, tcode: str) -> Check:
        from pipelines.conformance import validator as vmod

        v = self.v
        if node.matchers is None:
            node.matchers = v._build_matchers(node)
        matchers = node.matchers
        if any(ms is None for _, ms in matchers):
            return _never  # a slice we cannot recognise: let the full walk report it
        base_item = self.item_check(node, tcode)
        slice_types = [
            tcode if node.is_choice or len(s.types) != 1 else s.types[0][0] for s, _ in matchers
        ]
        slice_items = [
            self.item_check(snode, stype)
            for (snode, _), stype in zip(matchers, slice_types, strict=True)
        ]
        # (slice, min, max) for the slices whose count can be wrong
        limits = [(i, s.min, s.max) for i, (s, _) in enumerate(matchers) if s.min > 0 or s.max >= 0]
        closed = node.slicing.get("r") == "closed"
        lo, hi, arr = node.min, node.max, node.arr
        tests = [ms for _, ms in matchers]
        index = v.slice_index(node, matchers)
        find_slice = vmod.find_slice

        dpaths = [d[1] for d in node.slicing["d"]]
        # one plain child name as discriminator path (e.g. `category`, `url`): key on its JSON
        simple = len(dpaths) == 1 and dpaths[0].isidentifier()
        single = dpaths[0] if simple and node.slicing["d"][0][0] != "type" else None
        slice_memo: dict[tuple, int] = {}
        values_at = vmod._values_at
        # Per distinct discriminator JSON: the slice and whether that value passes the slice's own
        # check, so each item re-checks only its other keys. Only for context-free value types.
        split = [
            self._split_item(snode, stype, single) if single is not None else None
            for (snode, _), stype in zip(matchers, slice_types, strict=True)
        ]
        if any(sp is None for sp in split):
            split = []
        key_checks = [sp[0] for sp in split if sp is not None]
        rest_items = [sp[1] for sp in split if sp is not None]
        split_memo: dict[bytes, tuple[int, bool]] = {}
        dumps = orjson.dumps

        by_type = self._type_slices(node, matchers, index, tcode)

        def which(x: Any) -> int:
            if by_type is not None:
                return by_type(x)
            if index is not None and single is None:
                return find_slice(matchers, index, x, tcode)
            try:
                if single is not None:
                    key = (orjson.dumps(x.get(single)),) if type(x) is dict else ("",)
                else:
                    key = (
                        orjson.dumps([values_at(x, p) for p in dpaths]),
                        x.get("resourceType") if type(x) is dict else None,
                    )
            except TypeError:
                return find_slice(matchers, index, x, tcode)
            hit = slice_memo.get(key)
            if hit is None:
                hit = find_slice(matchers, index, x, tcode)
                if len(slice_memo) > MEMO_LIMIT:
                    slice_memo.clear()
                slice_memo[key] = hit
            return hit

        def sliced(value: Any, ctx: Ctx) -> bool:
            if arr:
                if type(value) is not list or not value:
                    return False
                items = value
            else:
                if type(value) is list:
                    return False
                items = [value]
            n = len(items)
            if n < lo or 0 <= hi < n:
                return False
            counts = [0] * len(tests)
            for x in items:
                if split and type(x) is dict and single in x:
                    try:
                        raw = dumps(x[single])
                    except TypeError:
                        raw = b""
                    if raw:
                        entry = split_memo.get(raw)
                        if entry is None:
                            hit = find_slice(matchers, index, x, tcode)
                            entry = (hit, hit >= 0 and key_checks[hit](x[single], ctx))
                            if b'"#' not in raw:  # local references depend on the resource
                                if len(split_memo) > MEMO_LIMIT:
                                    split_memo.clear()
                                split_memo[raw] = entry
                        hit, ok = entry
                        if hit < 0:
                            if closed or not base_item(x, ctx):
                                return False
                            continue
                        counts[hit] += 1
                        if not ok or not rest_items[hit](x, ctx):
                            return False
                        continue
                hit = which(x)
                if hit < 0:
                    if closed or not base_item(x, ctx):
                        return False
                    continue
                counts[hit] += 1
                if not slice_items[hit](x, ctx):
                    return False
            for i, mn, mx in limits:
                c = counts[i]
                if c < mn or 0 <= mx < c:
                    return False
            return True

        return sliced

    @staticmethod
    def _type_slices(
        node: Node, matchers: list, index: Any, tcode: str
    ) -> Callable[[Any], int] | None:
        """The slice finder when every discriminator is a type: for one element type the slice
        depends only on the item's resourceType (see `Validator._matcher`), so memoize on that."""
        from pipelines.conformance import validator as vmod

        if any(dtype != "type" for dtype, _ in node.slicing["d"]):
            return None
        find_slice = vmod.find_slice
        memo: dict[str | None, int] = {}

        def which(x: Any) -> int:
            rt = x.get("resourceType") if type(x) is dict else None
            if rt is not None and type(rt) is not str:
                return find_slice(matchers, index, x, tcode)
            hit = memo.get(rt)
            if hit is None:
                hit = find_slice(matchers, index, x, tcode)
                if len(memo) > MEMO_LIMIT:
                    memo.clear()
                memo[rt] = hit
            return hit

        return which

    def _split_item(self, node: Node, tcode: str, key: str) -> tuple[Check, Check] | None:
        """(check of `key`'s value, check of the rest of the item) when the item check is the
        fused object check and `key` holds a context-free value (a primitive or a memo type)."""
        from pipelines.conformance import validator as vmod

        if tcode[0].islower() or tcode in ("Resource", "Extension") or tcode in MEMO_TYPES:
            return None
        if node.fixed is not None or node.pattern is not None:
            return None
        if node.vs is not None and tcode in vmod.CODED:
            return None
        if tcode == "Reference" and node.target_profiles:
            return None
        entry = self.v._plan(node, tcode).keys.get(key)
        if entry is None:
            return None
        child, t, _primitive = entry
        if not (t[0].islower() or t in MEMO_TYPES) or (child.slicing is not None and child.slices):
            return None
        return self._element_check(child, t), self._build_object(
            node, tcode, False, as_item=True, skip=key
        )

    def _primitive_extension_check(self, element_item: Check) -> Check:
        def check(value: Any, ctx: Ctx) -> bool:
            if type(value) is list:
                return all(x is None or element_item(x, ctx) for x in value)
            return element_item(value, ctx)

        return check

    # -------------------------------------------------------------- items
    def item_check(self, node: Node, tcode: str) -> Check:
        key = (id(node), tcode)
        fn = self._items.get(key)
        if fn is None:
            items = self._items

            def lazy(value: Any, ctx: Ctx) -> bool:  # recursion guard while building
                return items[key](value, ctx)

            items[key] = lazy
            fn = self._primitive(node, tcode) if tcode[0].islower() else self._complex(node, tcode)
            items[key] = fn
        return fn

    def _primitive(self, node: Node, tcode: str) -> Check:
        from pipelines.conformance import validator as vmod

        v = self.v
        regex = v._regex.get(tcode, vmod._MISSING)
        if regex is vmod._MISSING:
            regex = v._make_regex(tcode)
        fixed, pattern = node.fixed, node.pattern
        codes = v.rules.codes(node.vs) if node.vs is not None and tcode in vmod.CODED else None
        json_types = vmod.JSON_TYPES.get(tcode)
        int_min = vmod.INT_MIN.get(tcode)
        is_bool = tcode == "boolean"
        is_date = tcode in vmod.DATE_TYPES
        bare = codes[1] if codes is not None else None

        simple = self._simple_primitive(tcode, json_types, int_min, regex, bare)
        if simple is not None:
            inline = _with_values(simple, fixed, pattern)
            self._inlines[(id(node), tcode)] = inline
            return inline.compile()

        def check(value: Any, ctx: Ctx) -> bool:
            if json_types is not None:
                if (type(value) is bool) != is_bool or not isinstance(value, json_types):
                    return False
                if int_min is not None and (type(value) is not int or value < int_min):
                    return False
            else:
                if type(value) is not str:
                    return False
                if regex is not None and regex(value) is None:
                    return False
                if is_date and len(value) >= 10 and not vmod._real_date(value[:10]):
                    return False
            if fixed is not None and value != fixed:
                return False
            if pattern is not None and value != pattern:
                return False
            return bare is None or (type(value) is str and value in bare)

        return check

    def _simple_primitive(
        self,
        tcode: str,
        json_types: tuple[type, ...] | None,
        int_min: int | None,
        regex: Callable[[str], Any] | None,
        bare: frozenset | None,
    ) -> Inline | None:
        """The common primitive checks as one expression (before any fixed or pattern value)."""
        from pipelines.conformance import validator as vmod

        if json_types is not None:
            if tcode == "boolean":
                return Inline("type({v}) is bool")
            if int_min is not None:
                return Inline("type({v}) is int and {v} >= {min}", {"min": int_min})
            return Inline(
                "type({v}) is not bool and isinstance({v}, {types})", {"types": json_types}
            )
        if bare is not None:
            if tcode in vmod.DATE_TYPES:
                return None
            if regex is not None:  # the codes that pass the regex, so a code costs one set lookup
                bare = frozenset(c for c in bare if regex(c) is not None)
            return Inline("type({v}) is str and {v} in {codes}", {"codes": bare})
        if regex is None:
            return None if tcode in vmod.DATE_TYPES else Inline("type({v}) is str")
        if regex is vmod._non_empty:  # cheaper than a set, and most strings are one of a kind
            return Inline("type({v}) is str and {regex}({v}) is not None", {"regex": regex})
        return self._valid_string(tcode, regex)

    def _valid_string(self, tcode: str, regex: Callable[[str], Any]) -> Inline:
        """Strings of `tcode` that passed its regex (and calendar) check are kept in a bounded set:
        codes, systems and dates repeat across resources, and a set lookup costs a tenth of a regex.
        """
        from pipelines.conformance import validator as vmod

        found = self._strings.get(tcode)
        if found is not None:
            return found
        seen: set[str] = set()
        real_date = vmod._real_date if tcode in vmod.DATE_TYPES else None

        def valid(value: str) -> bool:
            if regex(value) is None:
                return False
            if real_date is not None and len(value) >= 10 and not real_date(value[:10]):
                return False
            if len(seen) > MEMO_LIMIT:
                seen.clear()
            seen.add(value)
            return True

        found = Inline(
            "type({v}) is str and ({v} in {seen} or {valid}({v}))", {"seen": seen, "valid": valid}
        )
        self._strings[tcode] = found
        return found

    def _complex(self, node: Node, tcode: str) -> Check:
        from pipelines.conformance import validator as vmod

        v = self.v
        if tcode == "Resource":
            return _never  # contained and bundled resources take the full walk
        fixed, pattern = node.fixed, node.pattern
        codes = v.rules.codes(node.vs) if node.vs is not None and tcode in vmod.CODED else None
        targets = (
            v.reference_targets(node) if tcode == "Reference" and node.target_profiles else None
        )
        if tcode != "Extension":
            post = self._value_checks(tcode, fixed, pattern, codes, targets)
            spec = self._object_spec(node, tcode, False, as_item=True, post=post)
            if tcode in MEMO_TYPES:
                return self._memoized(build_object_check(spec))
            self._specs[(id(node), tcode)] = spec  # the parent's check may inline this one
            return build_object_check(spec)
        inner = self._extension(node)

        def check(value: Any, ctx: Ctx) -> bool:
            if type(value) is not dict or "resourceType" in value:
                return False
            if not value or (len(value) == 1 and "id" in value):
                return False
            if not inner(value, ctx):
                return False
            if fixed is not None and value != fixed:
                return False
            if pattern is not None and not vmod.pattern_matches(pattern, value):
                return False
            return codes is None or vmod._in_codes(value, tcode, codes)

        return check

    @staticmethod
    def _value_checks(
        tcode: str,
        fixed: Any,
        pattern: Any,
        codes: tuple[frozenset, frozenset] | None,
        targets: frozenset[str] | None,
    ) -> list[Inline]:
        """What must hold of a whole complex value besides its keys and invariants."""
        from pipelines.conformance import validator as vmod

        post: list[Inline] = []
        if fixed is not None:
            post.append(Inline("{v} == {fixed}", {"fixed": fixed}))
        if targets is not None:
            reference_type = vmod.reference_type

            def target_ok(reference: Any, root: dict) -> bool:
                kind = reference_type(reference, root)
                return kind is None or kind in targets

            post.append(Inline('{ok}({v}.get("reference"), ctx.root)', {"ok": target_ok}))
        if pattern is not None:
            post.append(
                Inline(
                    "{matches}({pattern}, {v})",
                    {"matches": vmod.pattern_matches, "pattern": pattern},
                )
            )
        if codes is not None:
            post.append(
                Inline(
                    "{in_codes}({v}, {t}, {codes})",
                    {"in_codes": vmod._in_codes, "t": tcode, "codes": codes},
                )
            )
        return post

    @staticmethod
    def _memoized(check: Check) -> Check:
        memo: dict[bytes, bool] = {}

        def memoized(value: Any, ctx: Ctx) -> bool:
            try:
                raw = orjson.dumps(value)
            except TypeError:
                return False
            hit = memo.get(raw)
            if hit is None:
                if b'"#' in raw:  # local references depend on the resource around them
                    return check(value, ctx)
                hit = check(value, ctx)
                if len(memo) > MEMO_LIMIT:
                    memo.clear()
                memo[raw] = hit
            return hit

        return memoized

    def _extension(self, node: Node) -> Check:
        v = self.v
        profiles = [p for _, ps in node.types for p in ps]
        by_url = node.path.endswith("xtension") and not profiles
        fixed_struct = v.rules.structure(profiles[0]) if profiles else None
        # an unknown modifier extension is an error (it may change the meaning of the element)
        modifier = node.name == "modifierExtension" and fixed_struct is None
        by_url_cache: dict[str, Check] = {}
        generic = self.object_check(node, "Extension")
        fixed_check = (
            self.object_check(fixed_struct.root, "Extension")
            if fixed_struct is not None
            and fixed_struct.root is not None
            and fixed_struct.type == "Extension"
            else generic
        )

        def check(value: dict, ctx: Ctx) -> bool:
            has_value = False
            for k in value:
                if k.startswith("value"):
                    has_value = True
                    break
            if has_value == ("extension" in value):
                return False
            url = value.get("url")
            if type(url) is not str:
                return False
            if not by_url or "://" not in url:
                return not modifier and fixed_check(value, ctx)
            fn = by_url_cache.get(url)
            if fn is None:
                st = v.rules.structure(url)
                if st is None or st.root is None or st.type != "Extension":
                    fn = _never if modifier else generic
                else:
                    fn = self.object_check(st.root, "Extension")
                by_url_cache[url] = fn
            return fn(value, ctx)

        return check
