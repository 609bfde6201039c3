"""Service passwords and top-up card PINs are stored hashed (scrypt), never in clear.

A password hash carries its own random salt and cost: ``scrypt$n$r$p$salt$hash`` (hex).
A card PIN is the primary key of its card, so its hash is deterministic (a fixed salt); the
scrypt cost keeps the 10^16..10^19 PIN space out of reach of guessing from a stolen table.
"""

from __future__ import annotations

import hashlib
import hmac
import os

_N, _R, _P = 2**14, 8, 1
_CARD_SALT = b"ivr-engine/topup-card/v1"
# Compared against when the number has no password, so both cases take the same time.
_DUMMY = "scrypt$16384$8$1$00000000000000000000000000000000$" + "00" * 32


def is_password(password: str) -> bool:
    """A service password is exactly 6 digits."""
    return len(password) == 6 and password.isascii() and password.isdigit()


def is_card_pin(pin: str) -> bool:
    """A top-up card PIN is 16 to 19 digits."""
    return 16 <= len(pin) <= 19 and pin.isascii() and pin.isdigit()


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = _scrypt(password, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str | None) -> bool:
    """Constant-time check of a password against a stored hash (False for no hash)."""
    try:
        scheme, n, r, p, salt, digest = (stored or _DUMMY).split("$")
        expected = bytes.fromhex(digest)
        actual = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return scheme == "scrypt" and stored is not None and hmac.compare_digest(actual, expected)


def card_key(pin: str) -> str:
    """The stored (hashed) form of a card PIN."""
    return _scrypt(pin, _CARD_SALT, _N, _R, _P).hex()


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 2**20, dklen=32)
