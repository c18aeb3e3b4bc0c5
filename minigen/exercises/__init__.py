"""Exercises cut from the library's own source, graded by its property tests.

A student's exercise is a marked region of the core's source (``# exercise N: title`` ...
``# end exercise N``): the library holds the solution, and ``start`` writes a workspace whose
regions raise ``NotImplementedError`` until the student writes them. ``check`` runs the
exercise's graded tests (``graded/``: hypothesis over shapes and values, gradients against
finite differences with a random cotangent, values against NumPy written in the test) in a
child process whose ``import minigen`` is the workspace's copy.

    python -m minigen exercises list [--workspace DIR]
    python -m minigen exercises start DIR [--force]
    python -m minigen exercises check [N ...|all] [--workspace DIR] [--verbose]

Not part of the engine: ``import minigen`` never imports this package.

Modules: :mod:`.catalog` (the exercises and their lessons), :mod:`.markers` (finding and
rewriting regions), :mod:`.workspace` (start, status), :mod:`.check` (grading), :mod:`.cli`.
"""
