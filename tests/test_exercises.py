"""The exercises, graded as a student's would be: for every exercise, the blank fails its graded
tests with its NotImplementedError message, the library's reference passes, and a planted wrong
solution fails with a message that points at the mistake; for conv2d's and batch norm's backward,
a correct solution written differently from the reference passes.

Each case is a workspace written by ``start``'s own code (``write_workspace``), with one
exercise's bodies blank or replaced, graded by ``check`` in a child process, as the command
line does. The markers, the catalog and the lessons are checked to agree.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("hypothesis")

from minigen.exercises import check as grading  # noqa: E402
from minigen.exercises import cli, markers  # noqa: E402
from minigen.exercises import workspace as ws  # noqa: E402
from minigen.exercises.catalog import EXERCISES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# (exercise, region, a wrong body, words the first failure must contain). Each is a mistake a
# student makes; the words show that check's message leads to it.
WRONG = [
    (1, "backward()", "grads[id(parent)] = g", "the SUM of their gradients"),
    (2, "Mul.backward", """
        a, b = ctx.saved_arrays
        grad_a = grad_out * a if ctx.needs_input_grad[0] else None  # (a, not b)
        grad_b = grad_out * b if ctx.needs_input_grad[1] else None
        return grad_a, grad_b
        """, "analytic"),
    (3, "_unbroadcast", """
        xp = backend.namespace(grad)
        extra = grad.ndim - len(shape)
        if extra > 0:
            grad = xp.mean(grad, axis=tuple(range(extra)))  # (a mean: the copies add up)
        ones = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if ones:
            grad = xp.sum(grad, axis=ones, keepdims=True)
        return grad
        """, "_unbroadcast of a gradient"),
    (4, "Sigmoid.backward", """
        (out,) = ctx.saved_arrays
        return grad_out * out  # (s (1 - s) forgotten)
        """, "analytic"),
    (5, "Linear.backward", """
        x, weight = ctx.saved_arrays
        xp = backend.namespace(x)
        rows = math.prod(grad_out.shape[:-1])
        g = xp.reshape(grad_out, (rows, grad_out.shape[-1]))
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = xp.matmul(grad_out, weight)
        if ctx.needs_input_grad[1]:
            grad_w = xp.matmul(xp.matrix_transpose(g), xp.reshape(x, (rows, x.shape[-1])))
        if ctx.needs_input_grad[2]:
            grad_b = xp.mean(g, axis=0)  # (the bias is added to every row: a sum)
        return grad_x, grad_w, grad_b
        """, "the gradient of bias"),
    (6, "Conv2d.backward", """
        xpad, weight = ctx.saved_arrays
        xp = backend.namespace(grad_out)
        w2 = xp.reshape(weight, (weight.shape[0], -1))
        g = _columns(grad_out)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:  # (the padding is not cut off again)
            cols = xp.matmul(xp.matrix_transpose(w2), g)
            grad_x = _batch_first(col2im(cols, xpad.shape, *ctx.geometry))
        if ctx.needs_input_grad[1]:
            cols = im2col(xpad, *ctx.geometry)
            grad_w = xp.reshape(xp.matmul(g, xp.matrix_transpose(cols)), weight.shape)
        if ctx.needs_input_grad[2]:
            grad_b = xp.sum(g, axis=1)
        return grad_x, grad_w, grad_b
        """, "shape"),
    (7, "ConvTranspose2d.forward", """
        xp = backend.namespace(x)
        n, c_out, kernel = x.shape[0], weight.shape[1], tuple(weight.shape[2:])
        grid = tuple(x.shape[2:])
        size = geometry.conv_transpose2d_output_size(grid, kernel, stride, padding,
                                                     output_padding, dilation)
        x2 = _columns(x)
        cols = xp.matmul(xp.matrix_transpose(xp.reshape(weight, (x.shape[1], -1))), x2)
        padded = (c_out, size[0] + 2 * padding[0], size[1] + 2 * padding[1], n)
        ypad = col2im(cols, padded, kernel, stride, dilation, grid)
        ctx.save_for_backward(x2, weight)  # (the bias is never added)
        ctx.geometry = (kernel, stride, dilation, grid)
        ctx.padding = padding
        return _batch_first(ypad, padding)
        """, "ConvTranspose2d.forward"),
    (8, "BinaryCrossEntropyWithLogits.forward", """
        s = 1.0 / (1.0 + xp.exp(-logits))  # (the textbook formula: log(0) for large |x|)
        loss = -(target * xp.log(s) + (1.0 - target) * xp.log(1.0 - s))
        """, "log(sigmoid(x))"),
    (9, "the step", """
        denom = xp.sqrt(v)
        denom += eps
        step = m * lr  # (no bias correction)
        step /= denom
        p.data -= step
        """, "after step 1"),
    (10, "one training step", """
        z = minigen.randn(n, G.latent_dim, device=dev)
        real_logits, fake_logits = D(real), D(G(z).detach())
        d_loss = discriminator_loss(real_logits, fake_logits, real_label)
        numbers = {"d_loss": d_loss.item(),
                   "d_x": F.sigmoid(real_logits).mean().item(),
                   "d_g_z": F.sigmoid(fake_logits).mean().item()}
        run.check_finite(numbers)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        d_steps += 1
        if d_steps % k == 0:  # (G trained on D's fake logits of the old noise: no fresh z)
            D.requires_grad_(False)
            g_loss = generator_loss(D(G(z)), not saturating)
            D.requires_grad_(True)
            numbers["g_loss"] = g_loss.item()
            run.check_finite(numbers)
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            if generator_ema is not None:
                generator_ema.update_parameters(G)
        """, "batch by batch"),
    (11, "BatchNorm.backward", """
        centred, inv_std, scale = ctx.saved_arrays
        xp, ndim, m = backend.namespace(grad_out), grad_out.ndim, ctx.count
        need_x, need_w, need_b = ctx.needs_input_grad
        grad_b = xp.sum(grad_out, axis=ctx.axes)
        grad_w = backend.sum_of_products(grad_out, centred, ctx.axes) * inv_std
        grad_x = None
        if need_x:  # (as if mean and var were constants, in training too)
            grad_x = grad_out * _per_channel(scale, ndim)
        return grad_x, grad_w if need_w else None, grad_b if need_b else None
        """, "analytic"),
    (12, "GaussianKL.backward", """
        mu, var_minus_1 = ctx.saved_arrays
        g = per_element_grad(ctx, grad_out)
        if ctx.reduction == "none":
            g = g[..., None]
        xp = backend.namespace(mu)
        grad_mu = grad_logvar = None
        if ctx.needs_input_grad[0]:
            grad_mu = xp.broadcast_to(g * mu, ctx.full_shape)
        if ctx.needs_input_grad[1]:  # (the 1/2 forgotten)
            grad_logvar = xp.broadcast_to(g * var_minus_1, ctx.full_shape)
        return grad_mu, grad_logvar, None
        """, "analytic"),
    (13, "full_covariance_terms", """
        half_log_2pi = 0.5 * math.log(2 * math.pi)
        log_sigma = out.logvar * 0.5
        # (Figure 11's slip: log sigma inside the 1/2)
        log_qz = -(0.5 * (out.eps * out.eps + log_sigma) + half_log_2pi).sum(dim=-1)
        log_pz = -(out.z * out.z * 0.5 + half_log_2pi).sum(dim=-1)
        return log_qz, log_pz
        """, "log q(z|x)"),
    # a second mistake for each, where a grader could miss it
    (1, "_topological_order", """
        order, visited, stack = [], set(), [(root, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
            elif id(node) not in visited:
                visited.add(id(node))
                stack.append((node, True))
                parents = () if isinstance(node, Tensor) else node.parents
                stack.extend((p, False) for p in parents if p is not None)
        return order  # (inputs first: the output's gradient must go first)
        """, "must start with the root"),
    (2, "Div.backward", """
        a, b = ctx.saved_arrays
        grad_a = grad_out / b if ctx.needs_input_grad[0] else None
        grad_b = grad_out * a / (b * b) if ctx.needs_input_grad[1] else None  # (sign)
        return grad_a, grad_b
        """, "analytic"),
    (3, "_unbroadcast", """
        xp = backend.namespace(grad)
        extra = grad.ndim - len(shape)
        if extra > 0:
            grad = xp.sum(grad, axis=tuple(range(extra)))
        ones = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if ones:
            grad = xp.sum(grad, axis=ones)  # (keepdims forgotten: an axis of 1 is lost)
        return grad
        """, "_unbroadcast of a gradient"),
    (4, "Log.backward", """
        (a,) = ctx.saved_arrays
        return grad_out * a  # (1/x, not x)
        """, "analytic"),
    (5, "MatMul.backward", """
        a, b = ctx.saved_arrays
        xp = backend.namespace(a)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        batch = broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g = xp.reshape(grad_out, batch + (a2.shape[-2], b2.shape[-1]))
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:  # (B, not B^T; squares pass)
            grad_a = _as_operand(xp.matmul(g, b2), a)
        if ctx.needs_input_grad[1]:
            grad_b = _as_operand(xp.matmul(xp.matrix_transpose(a2), g), b)
        return grad_a, grad_b
        """, "matmul"),
    (6, "Conv2d.backward", """
        xpad, weight = ctx.saved_arrays
        xp = backend.namespace(grad_out)
        w2 = xp.reshape(weight, (weight.shape[0], -1))
        g = _columns(grad_out)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            cols = xp.matmul(xp.matrix_transpose(w2), g)
            grad_x = _batch_first(col2im(cols, xpad.shape, *ctx.geometry), ctx.padding)
        if ctx.needs_input_grad[1]:
            cols = im2col(xpad, *ctx.geometry)
            grad_w = xp.reshape(xp.matmul(g, xp.matrix_transpose(cols)), weight.shape)
        if ctx.needs_input_grad[2]:
            grad_b = xp.mean(g, axis=1)  # (a mean over pixels and images, not a sum)
        return grad_x, grad_w, grad_b
        """, "the gradient of bias"),
    (7, "ConvTranspose2d.backward", """
        x2, weight = ctx.saved_arrays
        xp = backend.namespace(grad_out)
        w2 = xp.reshape(weight, (weight.shape[0], -1))
        cols = im2col(_padded_batch_last(grad_out, ctx.padding), *ctx.geometry)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = _image(xp.matmul(w2, cols), grad_out.shape[0], ctx.geometry[3])
        if ctx.needs_input_grad[1]:
            grad_w = xp.reshape(xp.matmul(x2, xp.matrix_transpose(cols)), weight.shape)
        if ctx.needs_input_grad[2]:
            grad_b = xp.sum(grad_out[0], axis=(1, 2))  # (the first image only)
        return grad_x, grad_w, grad_b
        """, "the gradient of bias"),
    (8, "BinaryCrossEntropyWithLogits.backward", """
        grad_x = g * (target - stable_sigmoid(logits, e)) if need_x else None  # (sign)
        grad_y = loss_shaped(ctx, g * -logits) if need_y else None
        return grad_x, grad_y, None
        """, "analytic"),
    (9, "the moments m and v", """
        m *= beta1
        m += (1.0 - beta1) * grad
        v *= beta2
        v += (1.0 - beta2) * grad  # (g, not g^2)
        """, "after step 1"),
    (10, "one training step", """
        z = minigen.randn(n, G.latent_dim, device=dev)
        real_logits, fake_logits = D(real), D(G(z).detach())
        d_loss = discriminator_loss(real_logits, fake_logits, real_label)
        numbers = {"d_loss": d_loss.item(),
                   "d_x": F.sigmoid(real_logits).mean().item(),
                   "d_g_z": F.sigmoid(fake_logits).mean().item()}
        run.check_finite(numbers)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        d_steps += 1
        z = minigen.randn(n, G.latent_dim, device=dev)  # (G updated after every D step:
        D.requires_grad_(False)                         #  k ignored)
        g_loss = generator_loss(D(G(z)), saturating)
        D.requires_grad_(True)
        numbers["g_loss"] = g_loss.item()
        run.check_finite(numbers)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        if generator_ema is not None:
            generator_ema.update_parameters(G)
        """, "k=2"),
    (11, "BatchNorm.backward", """
        centred, inv_std, scale = ctx.saved_arrays
        xp, ndim, m = backend.namespace(grad_out), grad_out.ndim, ctx.count
        need_x, need_w, need_b = ctx.needs_input_grad
        grad_x = grad_w = grad_b = None
        if need_b or (need_x and ctx.training):
            grad_b = xp.sum(grad_out, axis=ctx.axes)
        if need_w or (need_x and ctx.training):  # (x - mean, not x_hat: inv_std forgotten)
            grad_w = backend.sum_of_products(grad_out, centred, ctx.axes)
        if need_x:
            grad_x = grad_out * _per_channel(scale, ndim)
            if ctx.training:
                grad_x -= centred * _per_channel(scale * inv_std * grad_w * inv_std / m, ndim)
                grad_x -= _per_channel(scale * grad_b / m, ndim)
        return grad_x, grad_w if need_w else None, grad_b if need_b else None
        """, "BatchNorm.backward, the gradient of weight"),
    (12, "reparameterize", """
        eps = randn(*mu.shape, dtype=mu.dtype, device=mu.device)
        return mu + logvar.exp() * eps  # (the variance, not the standard deviation)
        """, "logvar's gradient"),
    (13, "L = L_mask * L' + diag(sigma)", """
        L = L_prime + sigma.unsqueeze(-1) * identity(d, mu)  # (the mask forgotten)
        z = (L * eps.unsqueeze(1)).sum(dim=-1) + mu
        """, "strictly below the diagonal"),
]

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
    for n, name, *_rest in WRONG + [(n, name) for n, (name, _) in ALTERNATIVE.items()]:
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


@pytest.mark.parametrize("number, name, body, words", WRONG,
                         ids=[f"{case[0]}-{case[1]}" for case in WRONG])
def test_a_wrong_solution_fails(tmp_path, number, name, body, words):
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
