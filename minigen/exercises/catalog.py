"""The exercises: what each is, the lesson that teaches it, and the graded tests that check it.

The code of an exercise is not here: it is the marked regions of the library's source
(:mod:`minigen.exercises.markers`); ``tests/test_exercises.py`` checks that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    number: int
    title: str
    lesson: str  # the lesson whose "Exercise N" cell says what to write
    grader: str  # the module of graded tests, in minigen/exercises/graded/
    uses: tuple[int, ...] = ()  # exercises whose code its tests also run: write them first


EXERCISES = {e.number: e for e in [
    Exercise(1, "the backward pass: order, and gradients summed",
             "lessons/01_autograd.py", "ex01_backward_pass.py"),
    Exercise(2, "Mul and Div, backward", "lessons/01_autograd.py", "ex02_mul_div.py"),
    Exercise(3, "undoing broadcasting: _unbroadcast", "lessons/01_autograd.py",
             "ex03_unbroadcast.py"),
    Exercise(4, "exp, log, sigmoid and tanh, backward", "lessons/02_gradcheck.py",
             "ex04_elementwise.py"),
    Exercise(5, "matmul and Linear, backward", "lessons/03_layers.py", "ex05_matmul_linear.py"),
    Exercise(6, "conv2d: forward by im2col, and backward", "lessons/03_layers.py",
             "ex06_conv2d.py"),
    Exercise(7, "conv_transpose2d, conv2d's adjoint", "lessons/03_layers.py",
             "ex07_conv_transpose2d.py"),
    Exercise(8, "binary cross-entropy with logits, stable", "lessons/04_gan.py",
             "ex08_bce_with_logits.py"),
    Exercise(9, "Adam's step", "lessons/04_gan.py", "ex09_adam.py"),
    Exercise(10, "one GAN training step: D, then G", "lessons/04_gan.py", "ex10_gan_step.py",
             uses=(1, 4, 5, 8, 9)),
    Exercise(11, "batch norm, backward", "lessons/05_dcgan.py", "ex11_batch_norm.py"),
    Exercise(12, "reparameterisation and the Gaussian KL", "lessons/06_vae.py",
             "ex12_reparameterize_kl.py", uses=(1, 2, 4)),
    Exercise(13, "the full-covariance ELBO (Figure 11)", "lessons/07_full_covariance.py",
             "ex13_full_covariance.py", uses=(1, 2, 3, 4, 5)),
]}
