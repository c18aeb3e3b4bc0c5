"""The exercises, graded as a student's would be: for every exercise, the blank fails its graded
tests with its NotImplementedError message, the library's reference passes, and a planted wrong
solution fails with a message that points at the mistake; for conv2d's and batch norm's backward,
a correct solution written differently from the reference passes.

Each case is a workspace written by ``start``'s own code (``write_workspace``), with one
exercise's bodies blank or replaced, graded by ``check`` in a child process, as the command
line does. The markers, the catalog and the lessons are checked to agree.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")

from minigen.exercises import check as grading  # noqa: E402
from minigen.exercises import cli, markers  # noqa: E402
from minigen.exercises import workspace as ws  # noqa: E402
from minigen.exercises.catalog import EXERCISES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# Mistakes a student makes, each planted as one edit of the reference: (exercise, region, the
# reference's text, what the student wrote instead, words the first failure must contain, so
# that check's message leads to the mistake). Two for each exercise.
WRONG = [
    (1, "backward()", " if id(parent) not in grads else grads[id(parent)] + g", "",
     "the SUM of their gradients"),  # the last gradient to arrive, not their sum
    (1, "_topological_order", "return order[::-1]", "return order", "must start with the root"),
    (2, "Mul.backward", "grad_out * b if", "grad_out * a if", "analytic"),
    (2, "Div.backward", "-grad_out * a / (b * b)", "grad_out * a / (b * b)", "analytic"),
    (3, "_unbroadcast", "grad = xp.sum(grad, axis=tuple(range(extra)))",
     "grad = xp.mean(grad, axis=tuple(range(extra)))", "_unbroadcast of a gradient"),
    (3, "_unbroadcast", "axis=ones, keepdims=True", "axis=ones", "keepdims"),
    (4, "Sigmoid.backward", "out * (1.0 - out)", "out", "analytic"),
    (4, "Log.backward", "grad_out / a", "grad_out * a", "analytic"),
    (5, "Linear.backward", "grad_b = xp.sum(g, axis=0)", "grad_b = xp.mean(g, axis=0)",
     "the gradient of bias"),
    (5, "MatMul.backward", "xp.matmul(g, xp.matrix_transpose(b2))", "xp.matmul(g, b2)", "matmul"),
    (6, "Conv2d.backward", "_batch_first(col2im(cols, xpad.shape, *ctx.geometry), ctx.padding)",
     "_batch_first(col2im(cols, xpad.shape, *ctx.geometry))", "shape"),
    (6, "Conv2d.backward", "grad_b = xp.sum(g, axis=1)", "grad_b = xp.mean(g, axis=1)",
     "the gradient of bias"),
    (7, "ConvTranspose2d.forward", "ypad += xp.reshape(bias, (c_out, 1, 1, 1))", "pass",
     "ConvTranspose2d.forward"),
    (7, "ConvTranspose2d.backward", "xp.sum(grad_out, axis=(0, 2, 3))",
     "xp.sum(grad_out[0], axis=(1, 2))", "the gradient of bias"),
    (8, "BinaryCrossEntropyWithLogits.forward",
     "loss = xp.maximum(logits, 0.0) - logits * target + backend.log1p_unit(e)",
     "loss = -(target * xp.log(1.0 / (1.0 + xp.exp(-logits)))\n"
     "         + (1.0 - target) * xp.log(1.0 - 1.0 / (1.0 + xp.exp(-logits))))",
     "log(sigmoid(x))"),
    (8, "BinaryCrossEntropyWithLogits.backward", "(stable_sigmoid(logits, e) - target)",
     "(target - stable_sigmoid(logits, e))", "analytic"),
    (9, "the step", "denom /= math.sqrt(1.0 - beta2**t)", "pass", "after step 1"),
    (9, "the moments m and v", "(1.0 - beta2) * grad * grad", "(1.0 - beta2) * grad",
     "after step 1"),
    (10, "one training step", "    z = minigen.randn(n, G.latent_dim, device=dev)\n",
     "", "batch by batch"),  # G's step on D's noise: no fresh z
    (10, "one training step", "if d_steps % k == 0:", "if True:", "k=2"),
    (11, "BatchNorm.backward", "grad_x -= _per_channel(scale * grad_b / m, ndim)", "pass",
     "analytic"),
    (11, "BatchNorm.backward", "centred, ctx.axes) * inv_std", "centred, ctx.axes)",
     "BatchNorm.backward, the gradient of"),  # sum g (x - mean), not sum g x_hat
    (12, "GaussianKL.backward", "g * (var_minus_1 * 0.5)", "g * var_minus_1", "analytic"),
    (12, "reparameterize", "(logvar * 0.5).exp()", "logvar.exp()", "logvar's gradient"),
    (13, "full_covariance_terms", "out.eps * out.eps * 0.5 + half_log_2pi + log_sigma",
     "0.5 * (out.eps * out.eps + log_sigma) + half_log_2pi", "log q(z|x)"),  # Figure 11's slip
    (13, "L = L_mask * L' + diag(sigma)", "L_prime * strictly_lower_mask(d, mu)", "L_prime",
     "strictly below the diagonal"),
]


def planted(number: int, name: str, reference: str, mistake: str) -> str:
    """The region's reference body (dedented) with the one edit made."""
    (region,) = [r for r in ws.library_regions() if (r.number, r.name) == (number, name)]
    body = textwrap.dedent(region.body)
    assert body.count(reference) == 1, f"{name}: the reference changed; update the mistake"
    return body.replace(reference, mistake)


# Correct, but not the reference's way: the graded tests must pass them too.
ALTERNATIVE = {
    # conv2d's backward with one small product per kernel tap, no col2im or im2col
    6: ("Conv2d.backward", """
        xpad, weight = ctx.saved_arrays
        xp = backend.namespace(grad_out)
        (kh, kw), stride, dilation, grid = ctx.geometry
        g = xp.permute_dims(grad_out, (1, 2, 3, 0))  # (C_out, H_out, W_out, N)
        grad_xpad = xp.zeros(xpad.shape, dtype=xpad.dtype, device=xpad.device)
        grad_w = xp.zeros(weight.shape, dtype=weight.dtype, device=weight.device)
        for i in range(kh):
            for j in range(kw):
                r = slice(i * dilation[0], i * dilation[0] + stride[0] * (grid[0] - 1) + 1,
                          stride[0])
                c = slice(j * dilation[1], j * dilation[1] + stride[1] * (grid[1] - 1) + 1,
                          stride[1])
                w_tap = weight[:, :, i, j]  # (C_out, C_in): out += w_tap @ x[tap]
                x_tap = xp.reshape(xpad[:, r, c, :], (xpad.shape[0], -1))
                g2 = xp.reshape(g, (g.shape[0], -1))
                grad_xpad[:, r, c, :] += xp.reshape(
                    xp.matmul(xp.matrix_transpose(w_tap), g2), xpad[:, r, c, :].shape)
                grad_w[:, :, i, j] = xp.matmul(g2, xp.matrix_transpose(x_tap))
        p0, p1 = ctx.padding
        inside = grad_xpad[:, p0:xpad.shape[1] - p0, p1:xpad.shape[2] - p1, :]
        grad_x = xp.permute_dims(inside, (3, 0, 1, 2)) if ctx.needs_input_grad[0] else None
        grad_b = xp.sum(grad_out, axis=(0, 2, 3)) if ctx.needs_input_grad[2] else None
        return grad_x, grad_w if ctx.needs_input_grad[1] else None, grad_b
        """),
    # batch norm's backward from x_hat and the means of g and g * x_hat, as in the paper
    11: ("BatchNorm.backward", """
        centred, inv_std, scale = ctx.saved_arrays
        xp, ndim = backend.namespace(grad_out), grad_out.ndim
        x_hat = centred * _per_channel(inv_std, ndim)
        dy_dxhat = grad_out * _per_channel(scale / inv_std, ndim)  # g * weight
        grad_w = xp.sum(grad_out * x_hat, axis=ctx.axes)
        grad_b = xp.sum(grad_out, axis=ctx.axes)
        grad_x = None
        if ctx.needs_input_grad[0]:
            if ctx.training:
                mean_d = xp.mean(dy_dxhat, axis=ctx.axes, keepdims=True)
                mean_dx = xp.mean(dy_dxhat * x_hat, axis=ctx.axes, keepdims=True)
                grad_x = (dy_dxhat - mean_d - x_hat * mean_dx) * _per_channel(inv_std, ndim)
            else:
                grad_x = dy_dxhat * _per_channel(inv_std, ndim)
        return (grad_x, grad_w if ctx.needs_input_grad[1] else None,
                grad_b if ctx.needs_input_grad[2] else None)
        """),
}


def grade(tmp_path: Path, number: int, *, blank: set[int] = frozenset(),
          bodies: dict | None = None) -> grading.Result:
    folder = ws.write_workspace(tmp_path / "ws", blank=set(blank), bodies=bodies)
    (result,) = grading.check([number], folder, timeout=240)
    return result


def test_markers_catalog_and_lessons_agree():
    """Every exercise has regions in the source, a grader, and an "Exercise N" in its lesson;
    every region belongs to an exercise; an exercise's regions have different names."""
    regions = ws.by_exercise(ws.library_regions())
    assert set(regions) == set(EXERCISES)
    for n, exercise in EXERCISES.items():
        assert regions[n], f"exercise {n} has no marked region"
        names = [r.name for r in regions[n]]
        assert len(names) == len(set(names)), f"exercise {n}: two regions named alike {names}"
        assert (grading.GRADED / exercise.grader).is_file()
        lesson = (ROOT / exercise.lesson).read_text()
        assert f"Exercise {n}:" in lesson, f"{exercise.lesson} never introduces exercise {n}"
        assert all(u < n for u in exercise.uses)
    assert {case[0] for case in WRONG} == set(EXERCISES)
    for n, name in [case[:2] for case in WRONG] + [(n, c[0]) for n, c in ALTERNATIVE.items()]:
        assert name in [r.name for r in regions[n]], (n, name)


def test_a_marker_without_its_pair_is_named():
    with pytest.raises(markers.MarkerError, match=r"minigen/ops/x.py:2: '# exercise 4'"):
        markers.scan_text("def f():\n    # exercise 4: f\n    return 1\n", "ops/x.py")


def test_the_library_passes_every_exercise(capsys):
    """check without a workspace grades the reference solutions, and exits 0."""
    assert cli.main(["check", "all"]) == 0
    out = capsys.readouterr().out
    assert f"{len(EXERCISES)} of {len(EXERCISES)} passed." in out


@pytest.mark.parametrize("number", sorted(EXERCISES))
def test_the_blank_fails_with_its_message(tmp_path, number):
    result = grade(tmp_path, number, blank={number})
    assert result.kind == "blank", (result.kind, result.summary, result.detail[-2000:])
    assert "not written yet (minigen/" in result.summary
    titles = [r.title for r in ws.library_regions() if r.number == number]
    assert any(f"NotImplementedError: exercise {number}: {t};" in result.detail for t in titles)
    assert f"see {EXERCISES[number].lesson}, Exercise {number}" in result.detail


@pytest.mark.parametrize("number, name, reference, mistake, words", WRONG,
                         ids=[f"{case[0]}-{case[1]}-{i}" for i, case in enumerate(WRONG)])
def test_a_wrong_solution_fails(tmp_path, number, name, reference, mistake, words):
    body = planted(number, name, reference, mistake)
    result = grade(tmp_path, number, blank=set(), bodies={(number, name): body})
    assert not result.passed, f"exercise {number}: the planted mistake in {name} passed"
    assert result.kind in ("failed", "error"), (result.kind, result.summary)
    assert words in result.summary, result.summary


@pytest.mark.parametrize("number", sorted(ALTERNATIVE))
def test_a_correct_solution_written_differently_passes(tmp_path, number):
    name, body = ALTERNATIVE[number]
    result = grade(tmp_path, number, blank=set(), bodies={(number, name): body})
    assert result.passed, (result.summary, result.detail[-3000:])


def test_a_needed_exercise_left_blank_is_named(tmp_path):
    """Exercise 12's tests run the engine's backward pass: with exercise 1 blank they say to
    write it first, not that 12 is wrong."""
    result = grade(tmp_path, 12, blank={1})
    assert result.kind == "needs" and "exercise 1" in result.summary, result.summary


def test_start_list_check_on_the_command_line(tmp_path, capsys):
    folder = tmp_path / "ws"
    assert cli.main(["start", str(folder)]) == 0
    assert "PYTHONPATH=" in capsys.readouterr().out
    assert cli.main(["start", str(folder)]) == 2  # never replaces a student's code silently
    assert "--force" in capsys.readouterr().err
    assert cli.main(["check", "2", "--workspace", str(folder)]) == 1
    assert "blank" in capsys.readouterr().out
    # the student writes exercise 2 (here: the reference, put back)
    regions = [r for r in ws.library_regions() if r.number == 2]
    path = folder / "minigen" / regions[0].path
    path.write_text(markers.rewrite(path.read_text(), regions[0].path,
                                    lambda r: next(x.body for x in regions if x.name == r.name)))
    assert cli.main(["check", "2", "--workspace", str(folder)]) == 0
    assert cli.main(["list", "--workspace", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "written, passing" in out and "blank" in out
    assert cli.main(["check", "14"]) == 2
    assert "no exercise 14" in capsys.readouterr().err
