"""Names every docstring example may use without importing them (pytest --doctest-modules)."""

import numpy as np
import pytest

import minigen
import minigen.functional as F
from minigen import nn, optim


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict) -> None:
    doctest_namespace.update(minigen=minigen, np=np, F=F, nn=nn, optim=optim)
