"""Every differentiable op has a gradient test.

Every op is a ``Function`` subclass, found here with ``Function.__subclasses__()`` (there is no
registry a student must learn first). Each op test module
(``tests/test_ops*.py``) lists the Function classes it gradient-checks in a module-level
``COVERED_OPS`` set (and ``tests.opcheck.check_op`` asserts that the output really comes from
the class named). These tests compare the two, so adding an op without a property test, or
listing an op that no longer exists, fails the suite.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import minigen
import minigen.ops
from minigen.autograd import Function

TESTS = Path(__file__).parent
# The op modules whose lowercase functions tests/test_ops.py, test_ops_shape.py,
# test_ops_nn.py and test_ops_pool.py cover one by one (COVERED_FUNCTIONS); ops defined
# elsewhere (conv, normalization) are held to the class-level check below.
FUNCTION_MODULES = {f"minigen.ops.{m}" for m in
                    ("arithmetic", "elementwise", "reductions", "shape", "linalg", "activations",
                     "losses")} | {
    f"minigen.extras.{m}" for m in
    ("classification", "pooling", "selection", "logic", "embedding", "padding", "resample",
     "smooth_activations", "layer_norm", "regression_losses", "ordering", "numeric",
     "similarity", "elementwise", "activations", "reductions", "arithmetic", "assignment",
     "indexing", "probability_losses")}
CLASS_CHECK_ONLY = {f"minigen.ops.{m}" for m in ("conv", "conv_geometry", "normalization")}
# The extras modules that hold no op (layers, optimizers, schedules, helpers, namespaces).
NOT_OPS = {f"minigen.extras.{m}" for m in
           ("anomaly", "comparison", "creation", "functional", "grad_mode", "lr_scheduler",
            "module_methods", "nn", "nn_layers", "nn_pooling", "nn_resample", "nn_sparse",
            "nn_utils", "optim", "optimizers", "swa_utils", "tensor_methods")}


def _import_all_of_minigen() -> None:
    """Import every minigen module, so that every Function subclass is registered."""
    for info in pkgutil.walk_packages(minigen.__path__, "minigen."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)


def _op_test_modules() -> list:
    return [importlib.import_module(f"tests.{path.stem}")
            for path in sorted(TESTS.glob("test_ops*.py"))]


def _minigen_functions() -> dict[str, type]:
    """The ops of minigen itself (not Functions that tests or lessons define)."""
    _import_all_of_minigen()
    return {cls.__name__: cls for cls in _all_subclasses(Function)
            if cls.__module__.startswith("minigen.")}


def _all_subclasses(cls: type) -> list[type]:
    found, stack = [], [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            found.append(sub)
            stack.append(sub)
    return found


def _covered(attribute: str) -> set[str]:
    names: set[str] = set()
    for module in _op_test_modules():
        names |= set(getattr(module, attribute, set()))
    return names


def test_op_test_modules_declare_what_they_cover():
    modules = _op_test_modules()
    assert {m.__name__ for m in modules} >= {"tests.test_ops", "tests.test_ops_shape",
                                             "tests.test_ops_nn"}
    for module in modules:
        covered = getattr(module, "COVERED_OPS", None)
        assert isinstance(covered, (set, frozenset)) and covered, (
            f"{module.__name__} must define a non-empty set COVERED_OPS of the Function "
            "classes it gradient-checks")


def test_every_op_has_a_gradient_test():
    missing = sorted(set(_minigen_functions()) - _covered("COVERED_OPS"))
    assert not missing, (
        f"ops without a gradient test: {missing}. Add a property test that gradchecks each "
        "to a tests/test_ops*.py module and list the class in its COVERED_OPS.")


def test_covered_ops_are_ops():
    unknown = sorted(_covered("COVERED_OPS") - set(_minigen_functions()))
    assert not unknown, f"COVERED_OPS names classes that are not ops: {unknown}"


def test_no_two_ops_share_a_name():
    """Ops are named by their class in COVERED_OPS: a second class of the same name would hide
    the first from the check above."""
    _import_all_of_minigen()
    names = [c.__name__ for c in _all_subclasses(Function) if c.__module__.startswith("minigen.")]
    assert sorted(set(names)) == sorted(names), "two minigen Function classes share a name"


def test_every_op_module_is_held_to_a_check():
    """A new op module (or one split off another) must join FUNCTION_MODULES or
    CLASS_CHECK_ONLY, else its functions would drop out of the check below unnoticed."""
    import minigen.extras

    modules = {f"minigen.ops.{info.name}" for info in pkgutil.iter_modules(minigen.ops.__path__)
               if not info.name.startswith("_")}
    modules |= {f"minigen.extras.{info.name}"
                for info in pkgutil.iter_modules(minigen.extras.__path__)
                if not info.name.startswith("_")} - NOT_OPS
    assert modules == FUNCTION_MODULES | CLASS_CHECK_ONLY, modules ^ (FUNCTION_MODULES |
                                                                    CLASS_CHECK_ONLY)


def _exported_op_functions() -> list[str]:
    import minigen.extras

    names = list(minigen.ops.__all__) + list(minigen.extras.__all__)
    return sorted(n for n in names if getattr(minigen.ops, n).__module__ in FUNCTION_MODULES)


@pytest.mark.parametrize("name", _exported_op_functions())
def test_every_exported_op_function_has_a_test(name):
    assert name in _covered("COVERED_FUNCTIONS"), (
        f"minigen.ops.{name} has no property test (add it to a test_ops*.py module and to "
        "that module's COVERED_FUNCTIONS)")


def test_user_functions_are_found_too():
    """A Function that a user (or a lesson) writes is a subclass like the built-in ones; the
    checks above skip such classes by their module."""

    class TimesThree(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 3

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out * 3

    assert TimesThree in _all_subclasses(Function)
    assert "TimesThree" not in _minigen_functions()
