"""One training step of each of the report's models: minigen against PyTorch on the CPU.

    python benchmarks/run.py [--repeats 7] [--batch-sizes 64,128,256] [--models vae,gan]
                             [--no-torch] [--no-memory]

For the VAE, the fully connected GAN and the DCGAN of the report, and for common variants
(``VARIANTS``), at each batch size, float32: the median time of one training step (forward,
backward, Adam) for minigen and for the same architecture in PyTorch, measured in this
process, interleaved in rounds with a pause before each block (see ``time_block``), after
warm-up; the ratio minigen/PyTorch with its spread over the rounds. Also: the share of a
minigen step spent inside GEMMs (matmul), the fixed per-step cost, seconds per epoch of 60,000
images, and the peak memory of DCGAN steps for each library (each measured in a fresh
subprocess as the growth of peak resident memory over the steps).

PyTorch is a benchmark-only dependency: ``pip install torch==2.13.0`` (the CPU build). Without
it the peer columns are skipped. Results go to benchmarks/results/models.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import minigen
from minigen import backend, nn, optim
from minigen.models import dcgan, discriminator_loss, gan, generator_loss, vae_loss
from minigen.models.vae import VAE, VAEOutput

RESULTS = Path(__file__).resolve().parent / "results"
BLOCK = 10  # steps timed in a row for one library before switching to the other
PAUSE = 0.3  # seconds of quiet before each block (see time_block)

try:
    import torch
    import torch.nn as tnn
    import torch.nn.functional as tF
except ImportError:  # the peer is optional
    torch = None


# ------------------------------------------------------------------ the variants
# Common networks beside the report's, so that a speed-up is the engine's and not one
# network's: pytorch/examples' VAE (784-400-20) and its 64x64 DCGAN (here on 1 channel).
# "dcgan-dropout" is the report's DCGAN with Dropout(0.3) in D instead of BatchNorm.
MODELS = ("vae", "gan", "dcgan")
VARIANTS = ("vae400", "dcgan-dropout", "dcgan64")


class VAE400(nn.Module):
    """pytorch/examples' VAE: 784 -> 400 -> (mu, logvar) in 20 -> 400 -> 784 logits."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc21, self.fc22 = (nn.Linear(784, 400), nn.Linear(400, 20),
                                          nn.Linear(400, 20))
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

    def forward(self, x: minigen.Tensor) -> VAEOutput:
        h = self.fc1(x.reshape(-1, 784)).relu()
        mu, logvar = self.fc21(h), self.fc22(h)
        eps = minigen.randn(*mu.shape, device=mu.device)
        z = mu + (0.5 * logvar).exp() * eps
        return VAEOutput(self.fc4(self.fc3(z).relu()), mu, logvar, z, eps)


def dcgan64_models(lib: Any, width: int) -> tuple[Any, Any]:
    """pytorch/examples' DCGAN (dcgan/main.py) for 64x64 images, 1 channel, nz 100, ngf =
    ndf = ``width``, written once for both libraries (``lib`` is ``minigen.nn`` or
    ``torch.nn``: the same names). D ends in logits, the loss is BCE with logits."""
    w = width
    g = lib.Sequential(
        lib.ConvTranspose2d(100, w * 8, 4, 1, 0, bias=False), lib.BatchNorm2d(w * 8), lib.ReLU(),
        lib.ConvTranspose2d(w * 8, w * 4, 4, 2, 1, bias=False), lib.BatchNorm2d(w * 4),
        lib.ReLU(),
        lib.ConvTranspose2d(w * 4, w * 2, 4, 2, 1, bias=False), lib.BatchNorm2d(w * 2),
        lib.ReLU(),
        lib.ConvTranspose2d(w * 2, w, 4, 2, 1, bias=False), lib.BatchNorm2d(w), lib.ReLU(),
        lib.ConvTranspose2d(w, 1, 4, 2, 1, bias=False), lib.Tanh())
    d = lib.Sequential(
        lib.Conv2d(1, w, 4, 2, 1, bias=False), lib.LeakyReLU(0.2),
        lib.Conv2d(w, w * 2, 4, 2, 1, bias=False), lib.BatchNorm2d(w * 2), lib.LeakyReLU(0.2),
        lib.Conv2d(w * 2, w * 4, 4, 2, 1, bias=False), lib.BatchNorm2d(w * 4),
        lib.LeakyReLU(0.2),
        lib.Conv2d(w * 4, w * 8, 4, 2, 1, bias=False), lib.BatchNorm2d(w * 8),
        lib.LeakyReLU(0.2),
        lib.Conv2d(w * 8, 1, 4, 1, 0, bias=False), lib.Flatten())
    return g, d


# ------------------------------------------------------------------ minigen steps


def minigen_step(model: str, batch: int, tiny: bool = False,
                 device: str = "cpu") -> Callable[[], None]:
    """A closure running one full training step of ``model`` in minigen on ``device``.

    ``tiny``: the same step, the same ops in the same order, with every hidden layer 2 units
    (or channels) wide, for :func:`fixed_cost`.
    """
    minigen.manual_seed(0)
    rng = np.random.default_rng(0)
    if model in ("vae", "vae400"):
        net = VAE(latent_dim=2) if model == "vae" else VAE400()
        if tiny and model == "vae":  # the same layers, 2 wide: 784 -> 2 -> 2 -> (2, 2) -> ...
            net.fc1, net.fc2, net.fc31, net.fc32 = (nn.Linear(784, 2), nn.Linear(2, 2),
                                                    nn.Linear(2, 2), nn.Linear(2, 2))
            net.fc4, net.fc5, net.fc6 = nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 784)
        net = net.to(device)
        opt = optim.Adam(net.parameters(), lr=1e-3)
        x = minigen.tensor(rng.random((batch, 1, 28, 28), dtype=np.float32), device=device)

        def step() -> None:
            opt.zero_grad()
            loss, _, _ = vae_loss(net(x), x)
            loss.backward()
            opt.step()

        return step
    side, z_shape = (64, (batch, 100, 1, 1)) if model == "dcgan64" else (28, (batch, 100))
    if model == "gan":
        g, d = ((gan.Generator(hidden=(2, 2, 2)), gan.Discriminator(hidden=(2, 2))) if tiny
                else (gan.Generator(), gan.Discriminator()))
    elif model == "dcgan64":
        g, d = dcgan64_models(nn, 2 if tiny else 64)
    else:
        dropout = {"dropout": 0.3, "batch_norm": False} if model == "dcgan-dropout" else {}
        g, d = ((dcgan.Generator(channels=2), dcgan.Discriminator(channels=2, **dropout))
                if tiny else (dcgan.Generator(), dcgan.Discriminator(**dropout)))
    g, d = g.to(device), d.to(device)
    opt_g = optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = minigen.tensor(rng.random((batch, 1, side, side), dtype=np.float32) * 2 - 1,
                          device=device)

    def step() -> None:
        z = minigen.randn(*z_shape, device=device)
        fake = g(z)
        opt_d.zero_grad()
        discriminator_loss(d(real), d(fake.detach())).backward()
        opt_d.step()
        opt_g.zero_grad()
        generator_loss(d(fake)).backward()
        opt_g.step()

    return step


# ------------------------------------------------------------------ the PyTorch peer


def torch_models(model: str) -> Any:
    """The same architectures in PyTorch, as minigen's defaults (minigen/models/*.py)."""
    if model == "vae":
        class TorchVAE(tnn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc1, self.fc2 = tnn.Linear(784, 512), tnn.Linear(512, 256)
                self.fc31, self.fc32 = tnn.Linear(256, 2), tnn.Linear(256, 2)
                self.fc4, self.fc5 = tnn.Linear(2, 256), tnn.Linear(256, 512)
                self.fc6 = tnn.Linear(512, 784)

            def forward(self, x):
                h = tF.relu(self.fc2(tF.relu(self.fc1(x.view(-1, 784)))))
                mu, logvar = self.fc31(h), self.fc32(h)
                z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
                return self.fc6(tF.relu(self.fc5(tF.relu(self.fc4(z))))), mu, logvar

        return TorchVAE()
    if model == "vae400":
        class TorchVAE400(tnn.Module):  # pytorch/examples' vae/main.py, logits out
            def __init__(self) -> None:
                super().__init__()
                self.fc1, self.fc21, self.fc22 = (tnn.Linear(784, 400), tnn.Linear(400, 20),
                                                  tnn.Linear(400, 20))
                self.fc3, self.fc4 = tnn.Linear(20, 400), tnn.Linear(400, 784)

            def forward(self, x):
                h = tF.relu(self.fc1(x.view(-1, 784)))
                mu, logvar = self.fc21(h), self.fc22(h)
                z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
                return self.fc4(tF.relu(self.fc3(z))), mu, logvar

        return TorchVAE400()
    if model == "dcgan64":
        g, d = dcgan64_models(tnn, 64)
        for m in list(g.modules()) + list(d.modules()):  # pytorch/examples' weights_init
            if isinstance(m, (tnn.Conv2d, tnn.ConvTranspose2d)):
                tnn.init.normal_(m.weight, 0.0, 0.02)
            elif isinstance(m, tnn.BatchNorm2d):
                tnn.init.normal_(m.weight, 1.0, 0.02)
                tnn.init.zeros_(m.bias)
        return g, d
    if model == "gan":
        g = tnn.Sequential(tnn.Linear(100, 256), tnn.LeakyReLU(0.2), tnn.Linear(256, 512),
                           tnn.LeakyReLU(0.2), tnn.Linear(512, 1024), tnn.LeakyReLU(0.2),
                           tnn.Linear(1024, 784), tnn.Tanh(), tnn.Unflatten(1, (1, 28, 28)))
        d = tnn.Sequential(tnn.Flatten(), tnn.Linear(784, 512), tnn.LeakyReLU(0.2),
                           tnn.Dropout(0.3), tnn.Linear(512, 256), tnn.LeakyReLU(0.2),
                           tnn.Dropout(0.3), tnn.Linear(256, 1))
        return g, d
    # minigen's default DCGAN: BatchNorm in D (no dropout), the DCGAN paper's initialisation;
    # "dcgan-dropout": Dropout(0.3) after D's LeakyReLUs instead of BatchNorm (quality.py)
    g = tnn.Sequential(tnn.Linear(100, 128 * 49), tnn.BatchNorm1d(128 * 49), tnn.ReLU(),
                       tnn.Unflatten(1, (128, 7, 7)), tnn.ConvTranspose2d(128, 64, 4, 2, 1),
                       tnn.BatchNorm2d(64), tnn.ReLU(), tnn.ConvTranspose2d(64, 1, 4, 2, 1),
                       tnn.Tanh())
    if model == "dcgan-dropout":
        d = tnn.Sequential(tnn.Conv2d(1, 64, 4, 2, 1), tnn.LeakyReLU(0.2), tnn.Dropout(0.3),
                           tnn.Conv2d(64, 128, 4, 2, 1), tnn.LeakyReLU(0.2), tnn.Dropout(0.3),
                           tnn.Flatten(), tnn.Linear(128 * 49, 1))
    else:
        d = tnn.Sequential(tnn.Conv2d(1, 64, 4, 2, 1), tnn.LeakyReLU(0.2),
                           tnn.Conv2d(64, 128, 4, 2, 1), tnn.BatchNorm2d(128),
                           tnn.LeakyReLU(0.2), tnn.Flatten(), tnn.Linear(128 * 49, 1))
    for m in list(g.modules()) + list(d.modules()):
        if isinstance(m, (tnn.Conv2d, tnn.ConvTranspose2d, tnn.Linear)):
            tnn.init.normal_(m.weight, 0.0, 0.02)
            tnn.init.zeros_(m.bias)
        elif isinstance(m, (tnn.BatchNorm1d, tnn.BatchNorm2d)):
            tnn.init.normal_(m.weight, 1.0, 0.02)
            tnn.init.zeros_(m.bias)
    return g, d


def torch_step(model: str, batch: int, device: str = "cpu") -> Callable[[], None]:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    if model in ("vae", "vae400"):
        net = torch_models(model).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        x = torch.from_numpy(rng.random((batch, 1, 28, 28), dtype=np.float32)).to(device)

        def step() -> None:
            opt.zero_grad()
            logits, mu, logvar = net(x)
            bce = tF.binary_cross_entropy_with_logits(logits, x.view(-1, 784), reduction="sum")
            kl = 0.5 * torch.sum(mu.pow(2) + logvar.exp() - logvar - 1)
            ((bce + kl) / batch).backward()
            opt.step()

        return step
    side, z_shape = (64, (batch, 100, 1, 1)) if model == "dcgan64" else (28, (batch, 100))
    g, d = (m.to(device) for m in torch_models(model))
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.from_numpy(rng.random((batch, 1, side, side), dtype=np.float32) * 2 - 1
                            ).to(device)
    ones, zeros = torch.ones(batch, 1, device=device), torch.zeros(batch, 1, device=device)

    def step() -> None:
        fake = g(torch.randn(*z_shape, device=device))
        opt_d.zero_grad()
        (tF.binary_cross_entropy_with_logits(d(real), ones)
         + tF.binary_cross_entropy_with_logits(d(fake.detach()), zeros)).backward()
        opt_d.step()
        opt_g.zero_grad()
        tF.binary_cross_entropy_with_logits(d(fake), ones).backward()
        opt_g.step()

    return step


# ------------------------------------------------------------------ measurement


def time_block(step: Callable[[], None], n: int = BLOCK) -> float:
    """The median time of one step over a block of ``n`` steps, after a pause and one
    untimed step.

    The pause matters on a small machine: after its last kernel each library's worker threads
    spin for a while (OpenBLAS's and OpenMP's busy-waiting), and if the other library starts
    at once, its threads fight the spinners for the same cores and both look slower than they
    are. (Interleaving step by step without the pause made minigen look 1.5x FASTER than
    PyTorch on the VAE, on 2 cores.) The untimed step wakes this library's own threads.
    """
    time.sleep(PAUSE)
    step()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare(model: str, batch: int, repeats: int, peer: bool) -> dict[str, Any]:
    """Interleaved rounds after warm-up, each round one block of minigen steps then one of
    PyTorch steps: the median over rounds of each block's median step time, and the ratio
    minigen/PyTorch as the median of the round-by-round ratios with their spread (quartiles,
    and least and greatest). A block holds as many steps as take about a second (at least
    one, at most ``BLOCK``)."""
    ours = minigen_step(model, batch)
    theirs = torch_step(model, batch) if peer else None
    started = time.perf_counter()
    for _ in range(2):
        ours()
    steps = max(1, min(BLOCK, round(2.0 / (time.perf_counter() - started))))
    if theirs:
        for _ in range(2):
            theirs()
    mine, peer_times = [], []
    for _ in range(repeats):
        mine.append(time_block(ours, steps))
        if theirs:
            peer_times.append(time_block(theirs, steps))
    result: dict[str, Any] = {"model": model, "batch": batch, "rounds": repeats,
                              "steps_per_block": steps,
                              "minigen_ms": 1e3 * statistics.median(mine),
                              "epoch_s_60k": statistics.median(mine) * 60000 / batch}
    if theirs:
        ratios = sorted(m / t for m, t in zip(mine, peer_times))
        q = (statistics.quantiles(ratios, n=4, method="inclusive") if len(ratios) > 1
             else [ratios[0]] * 3)
        result.update(torch_ms=1e3 * statistics.median(peer_times),
                      ratio=statistics.median(ratios), ratio_iqr=(q[0], q[2]),
                      ratio_range=(ratios[0], ratios[-1]))
    return result


def gemm_share(model: str, batch: int, steps: int = 10) -> float:
    """The fraction of a minigen step spent inside matmul (every GEMM goes through it)."""
    xp = backend.device("cpu").xp
    original = xp.matmul
    spent = [0.0]

    def timed_matmul(a: Any, b: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        out = original(a, b, **kwargs)
        spent[0] += time.perf_counter() - start
        return out

    step = minigen_step(model, batch)
    step()
    xp.matmul = timed_matmul
    try:
        start = time.perf_counter()
        for _ in range(steps):
            step()
        total = time.perf_counter() - start
    finally:
        xp.matmul = original
    return spent[0] / total


def fixed_cost(model: str, repeats: int = 200) -> float:
    """The per-step cost that does not grow with the arrays, in ms: Python (the engine's
    bookkeeping, the layers, the optimizer's loop) and NumPy's own per-call overhead.

    Measured as the median time of the same training step with every hidden layer 2 wide at
    batch 2 (:func:`minigen_step` with ``tiny``): the same ops, in the same order, on arrays
    so small that the kernels themselves take next to nothing. Divided by the full step's
    time it bounds the share of the step spent outside array kernels from above (the tiny
    step still runs a 784-wide input and output layer, and tiny kernels are not free).
    """
    step = minigen_step(model, 2, tiny=True)
    for _ in range(10):
        step()
    return 1e3 * time_block(step, repeats)


def peak_memory_mb(library: str, model: str, batch: int) -> float:
    """Peak memory that training steps add, in MiB.

    Two fresh subprocesses build the same models and data; one then runs 3 training steps. The
    difference of their peak resident memory (VmHWM) is what the steps themselves needed:
    activations, saved arrays, gradients, optimizer buffers, temporaries.
    """
    here = str(Path(__file__).resolve().parent)

    def peak(steps: int) -> int:
        # VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts from its parent's peak.
        code = (f"import sys; sys.path.insert(0, {here!r}); import run; "
                f"step = run.{library}_step({model!r}, {batch}); "
                f"[step() for _ in range({steps})]; "
                "print([l.split()[1] for l in open('/proc/self/status') "
                "if l.startswith('VmHWM')][0])")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        return int(out.stdout.strip().splitlines()[-1])

    return (peak(3) - peak(0)) / 1024  # VmHWM is in KiB


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"python": platform.python_version(), "numpy": np.__version__,
                            "cores": os.cpu_count(), "processor": platform.processor()}
    try:  # (platform.processor() is often empty on Linux)
        names = [line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                 if line.startswith("model name")]
        info["processor"] = names[0] if names else info["processor"]
    except OSError:
        pass
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [(i.get("internal_api"), i.get("version"), i.get("num_threads"))
                        for i in threadpool_info()]
    except ImportError:
        config = np.show_config(mode="dicts") if hasattr(np, "show_config") else {}
        blas = config.get("Build Dependencies", {}).get("blas", {}) if config else {}
        info["blas"] = f"{blas.get('name')} {blas.get('version')}"
    if torch is not None:
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    return info


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="rounds (timed blocks per "
                        "library) at each model and batch size")
    parser.add_argument("--batch-sizes", default="64,128,256")
    parser.add_argument("--models", default=",".join(MODELS + VARIANTS))
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch peer")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    peer = torch is not None and not args.no_torch
    if torch is None and not args.no_torch:
        print("PyTorch is not installed: peer columns skipped "
              "(pip install torch==2.13.0 for the CPU build)")
    if peer:
        torch.set_num_threads(os.cpu_count() or 1)
    models = args.models.split(",")
    report: dict[str, Any] = {"machine": machine(), "steps": [], "gemm_share": {},
                              "fixed_cost_ms": {}, "peak_memory_mib": {}}
    print(json.dumps(report["machine"]))
    print(f"{'model':13} {'batch':>5} {'minigen ms':>11} {'torch ms':>9} {'ratio':>6}  "
          "IQR        range")
    for model in models:
        for batch in (int(b) for b in args.batch_sizes.split(",")):
            r = compare(model, batch, args.repeats, peer)
            report["steps"].append(r)
            _print_row(r)
    for model in (m for m in models if m in MODELS):
        report["gemm_share"][model] = gemm_share(model, 128)
        ms = report["fixed_cost_ms"][model] = fixed_cost(model)
        print(f"{model}: {100 * report['gemm_share'][model]:.0f}% of a minigen step in GEMMs;"
              f" fixed per-step cost {ms:.2f} ms")
    memory = [("dcgan", 128), ("dcgan64", 64)]
    for model, batch in ([] if args.no_memory else [mb for mb in memory if mb[0] in models]):
        for library in ("minigen", "torch") if peer else ("minigen",):
            mib = peak_memory_mb(library, model, batch)
            report["peak_memory_mib"][f"{model} {batch} {library}"] = mib
            print(f"{model} batch {batch} step peak memory growth, {library}: {mib:.0f} MiB")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "models.json").write_text(json.dumps(report, indent=2))
    (out / "models.md").write_text(markdown(report))
    print(f"wrote {out / 'models.json'} and {out / 'models.md'}")
    return report


def _print_row(r: dict[str, Any]) -> None:
    peer = (f"{r['torch_ms']:9.1f} {r['ratio']:6.2f}  {r['ratio_iqr'][0]:.2f}-"
            f"{r['ratio_iqr'][1]:.2f}  {r['ratio_range'][0]:.2f}-{r['ratio_range'][1]:.2f}"
            if "torch_ms" in r else "")
    print(f"{r['model']:13} {r['batch']:5d} {r['minigen_ms']:11.1f} {peer}", flush=True)


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [f"Machine: {m['cores']} cores ({m.get('processor') or 'processor not named'}), "
             f"Python {m['python']}, NumPy {m['numpy']}, BLAS {m['blas']}"
             + (f", PyTorch {m['torch']} ({m['torch_threads']} threads)" if "torch" in m
                else ""), "",
             "One training step (forward, backward, Adam), float32, minigen against PyTorch in "
             "one process: medians over rounds of interleaved blocks; the ratio is "
             "minigen/PyTorch, the median of the rounds' ratios, with their quartiles and "
             "range. vae, gan, dcgan: the report's networks; vae400: pytorch/examples' "
             "784-400-20 VAE; dcgan-dropout: the DCGAN with Dropout in D instead of BatchNorm; "
             "dcgan64: pytorch/examples' 64x64 DCGAN (1 channel).", "",
             "| model | batch | minigen ms/step | PyTorch ms/step | ratio | quartiles | range "
             "| rounds | s/epoch (60k) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in report["steps"]:
        peer = (f"{r['torch_ms']:.1f} | {r['ratio']:.2f} | {r['ratio_iqr'][0]:.2f}-"
                f"{r['ratio_iqr'][1]:.2f} | {r['ratio_range'][0]:.2f}-{r['ratio_range'][1]:.2f}"
                if "torch_ms" in r else "- | - | - | -")
        lines.append(f"| {r['model']} | {r['batch']} | {r['minigen_ms']:.1f} | {peer} | "
                     f"{r['rounds']} | {r['epoch_s_60k']:.0f} |")
    if report["gemm_share"]:
        step128 = {r["model"]: r["minigen_ms"] for r in report["steps"] if r["batch"] == 128}
        lines += ["", "| model (batch 128) | GEMM share | fixed cost (share) |", "|---|---|---|"]
        for model, share in report["gemm_share"].items():
            fixed = report["fixed_cost_ms"][model]
            of = f" ({100 * fixed / step128[model]:.0f}%)" if model in step128 else ""
            lines.append(f"| {model} | {100 * share:.0f}% | {fixed:.2f} ms{of} |")
        lines += ["", "GEMM share: the time inside matmul. Fixed cost: the same step with "
                  "2-wide hidden layers at batch 2 (Python, the engine's bookkeeping and "
                  "NumPy's per-call overhead; an upper bound on the time outside array "
                  "kernels). Where the rest goes: `benchmarks/results/profile.md`."]
    if report["peak_memory_mib"]:
        lines += ["", "Peak memory growth over 3 training steps (MiB): " + ", ".join(
            f"{k} {v:.0f}" for k, v in report["peak_memory_mib"].items())]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
