"""Clerk session tokens signed with a key generated at test time (verified networklessly)."""

from __future__ import annotations

import base64
import time
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://clerk.haat.test"
PARTY = "http://testserver"
PUBLISHABLE_KEY = "pk_test_" + base64.b64encode(b"clerk.haat.test$").decode().rstrip("=")


def keypair(name: str = "main") -> tuple[bytes, str]:
    return _keypair(name)


@cache
def _keypair(name: str) -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def session_token(
    sub: str = "user_2abcClerkShopper", *, key: str = "main", **overrides: Any
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "sid": "sess_2abc",
        "iss": ISSUER,
        "azp": PARTY,
        "iat": now - 5,
        "nbf": now - 5,
        "exp": now + 60,
        "v": 2,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, keypair(key)[0], algorithm="RS256", headers={"kid": "ins_haat_test"})
