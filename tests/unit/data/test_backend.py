"""Profile, TopupResult and the backend module's helpers."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from ivr_engine.data import BackendError, Profile, UnknownSubscriber
from ivr_engine.data.backend import QUERY_KINDS, check_query_kind

VIP = Profile(
    number="13800138000",
    known=True,
    brand="gotone",
    vip=True,
    vip_level=3,
    arpu=Decimal("268.00"),
    home_region="beijing",
    status="active",
    blacklisted=False,
    network="on-net",
    package="gotone-128",
)


def test_as_dict_holds_every_field_by_name() -> None:
    assert VIP.as_dict() == {
        "number": "13800138000",
        "known": True,
        "brand": "gotone",
        "vip": True,
        "vip_level": 3,
        "arpu": Decimal("268.00"),
        "home_region": "beijing",
        "status": "active",
        "blacklisted": False,
        "network": "on-net",
        "package": "gotone-128",
    }
    assert list(VIP.as_dict()) == [f.name for f in dataclasses.fields(Profile)]


def test_as_dict_supports_numeric_conditions_on_arpu() -> None:
    assert VIP.as_dict()["arpu"] >= 120
    assert VIP.as_dict()["arpu"] > 267.5


def test_profile_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        VIP.vip = False  # type: ignore[misc]


def test_unknown_profile() -> None:
    other = Profile.unknown("+8613300133000")
    assert other == Profile(
        number="13300133000",
        known=False,
        brand="other",
        vip=False,
        vip_level=0,
        arpu=Decimal("0.00"),
        home_region="",
        status="",
        blacklisted=False,
        network="other",
        package="",
    )
    nuisance = Profile.unknown("13400134000", blacklisted=True)
    assert nuisance.network == "on-net"
    assert nuisance.blacklisted
    assert not nuisance.known


def test_query_kinds() -> None:
    for what in QUERY_KINDS:
        check_query_kind(what)
    with pytest.raises(ValueError, match="unknown query 'itemised'"):
        check_query_kind("itemised")


def test_unknown_subscriber_is_a_backend_error() -> None:
    assert issubclass(UnknownSubscriber, BackendError)
