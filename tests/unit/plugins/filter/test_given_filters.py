"""Blank extra vars (AWX survey "" or null, `-e x=`) count as not given; 0 and false are given."""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.filter import given

OMIT = object()


@pytest.mark.parametrize("blank", [None, "", "  ", "\t\n"])
def test_blank_is_not_given(blank):
    assert given.given(blank) is False
    assert given.given_or(blank, OMIT) is OMIT


@pytest.mark.parametrize("value", [0, False, "0", "false", [], {}, "todo:2", 3, {"A": "1"}])
def test_everything_else_is_given(value):
    assert given.given(value) is True
    assert given.given_or(value, OMIT) is value


def test_the_filters_are_registered():
    assert set(given.FilterModule().filters()) == {"given", "given_or"}
