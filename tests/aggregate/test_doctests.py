"""The examples in the docstrings of the aggregate modules run as tests."""

import doctest
import importlib

import pytest

MODULES = [
    "modenhub_net.stats",
    "modenhub_net.aggregate",
    "modenhub_net.aggregate.analytic",
    "modenhub_net.aggregate.adaptive",
    "modenhub_net.aggregate.config",
    "modenhub_net.aggregate.model",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
