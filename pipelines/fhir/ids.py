"""Deterministic, opaque resource ids: a keyed hash of the business key, never the key in clear.

The same key and business key give the same id on every run, so a re-run overwrites instead of
duplicating; without the key nobody can recover a member id from a resource id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DEVELOPMENT_ID_KEY = "payer-interop-development-id-key"


@dataclass(frozen=True)
class IdMaker:
    """Makes ids for one id key (INTEROP_ID_KEY in production)."""

    key: bytes

    @classmethod
    def from_secret(cls, secret: str) -> IdMaker:
        return cls(secret.encode("utf-8"))

    def __call__(self, resource_type: str, business_key: str) -> str:
        digest = hashlib.blake2b(
            f"{resource_type}|{business_key}".encode(), key=self.key, digest_size=16
        )
        return digest.hexdigest()

    def reference(self, resource_type: str, business_key: str) -> dict[str, str]:
        return {"reference": f"{resource_type}/{self(resource_type, business_key)}"}
