"""The examples in the package's docstrings run and show what they say."""

from __future__ import annotations

import doctest

import pytest

import tessera
from tessera import _errors, _inspect


@pytest.mark.parametrize("module", [tessera, _errors, _inspect], ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0, result
