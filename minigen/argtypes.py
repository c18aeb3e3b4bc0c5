"""argparse ``type`` functions shared by the two command lines (``python -m minigen`` and
``python -m minigen.metrics``): a bad number is argparse's one ``error:`` line."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any


def number(kind: type, what: str, ok: Callable[[Any], bool]) -> Callable[[str], Any]:
    """An argparse ``type``: ``kind(text)``, refused unless ``ok(value)``, so that a bad value
    is argparse's one ``error:`` line (``argument --epochs: must be a positive integer, got
    0``), not a silent default or a traceback from deep inside training."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if not ok(value):  # NaN fails every comparison, so it is refused here too
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


positive_int = number(int, "a positive integer", lambda v: v >= 1)
natural_int = number(int, "an integer >= 0", lambda v: v >= 0)  # seeds, counts where 0 = none
positive_float = number(float, "a positive number", lambda v: 0 < v < math.inf)
label = number(float, "in (0, 1]", lambda v: 0 < v <= 1)  # a target probability
dropout = number(float, "in [0, 1)", lambda v: 0 <= v < 1)  # p = 1 would drop everything
ema_decay = number(float, "in [0, 1]", lambda v: 0 <= v <= 1)
