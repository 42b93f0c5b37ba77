"""Hierarchical containment over the shipped GB/T 2260 data."""

import pytest

from service.errors import InvalidInput
from service.regions.directory import regions


def test_within_is_hierarchical():
    directory = regions()
    assert directory.within("360104", "360104")
    assert directory.within("360104", "360100")
    assert directory.within("360104", "360000")
    assert not directory.within("360100", "360104")
    assert not directory.within("360402", "360100")
    assert directory.within("361200", "360000")  # 赣江新区 sits under the province


def test_descendants_and_unknown_codes():
    directory = regions()
    nanchang = directory.descendants("360100")
    assert "360100" in nanchang and "360113" in nanchang and "360402" not in nanchang
    assert len(directory.descendants("360000")) == len(list(directory))
    with pytest.raises(InvalidInput) as raised:
        directory.require("999999")
    assert raised.value.details[0]["field"] == "region_code"
