"""Calling numbers: normalise a caller id and tell China Mobile numbers from the rest.

China Mobile ranges (domain.md, 000:43): 134 (1340-1348 only; 1349 is Globalstar satellite),
135-139, 150-152, 1571, 1572, 1574, 158, 159, 182, 187, 188 and 147. Only 11-digit mobile
numbers are classified; a +86 / 86 / 0086 country prefix is stripped first. Fixed lines and
anything else are "other" (他网).
"""

from __future__ import annotations

ON_NET = "on-net"
OTHER = "other"

_ON_NET_PREFIXES = frozenset(
    [f"134{d}" for d in "012345678"]
    + ["135", "136", "137", "138", "139", "150", "151", "152"]
    + ["1571", "1572", "1574", "158", "159", "182", "187", "188", "147"]
)
_COUNTRY_PREFIXES = ("+86", "0086", "86")


def normalise_number(number: str) -> str:
    """The number without blanks, dashes and, for mobiles, the +86/86/0086 country prefix.

    Only a prefix followed by exactly 11 digits starting with 1 is stripped, so fixed lines
    and short numbers come back unchanged (apart from the blanks and dashes).
    """
    compact = "".join(ch for ch in number.strip() if ch not in " -")
    for prefix in _COUNTRY_PREFIXES:
        rest = compact[len(prefix) :]
        if compact.startswith(prefix) and _is_mobile(rest):
            return rest
    return compact


def classify_number(number: str) -> str:
    """ "on-net" for a China Mobile mobile number, else "other"."""
    national = normalise_number(number)
    if not _is_mobile(national):
        return OTHER
    if national[:3] in _ON_NET_PREFIXES or national[:4] in _ON_NET_PREFIXES:
        return ON_NET
    return OTHER


def _is_mobile(digits: str) -> bool:
    return len(digits) == 11 and digits.isascii() and digits.isdigit() and digits[0] == "1"
