"""Export a run's model to a file that runs without attnpool: ONNX (onnxruntime, any language) or TorchScript.

The file's interface (the same for both formats)::

    inputs   x      float32 [S, N, T, F]   data units (normalisation is inside the file)
             mask   bool    [S, N, T]      True = valid step (a real input even when every step is valid)
    outputs  output float32 classify: probabilities [S, K]; regress: [S, D] or [S, N, D]; forecast: [S, N, H],
                            in data units
             weights float32 [S, N, T]     temporal attention weights

S and T are dynamic; N and F are the run's. Every :class:`~attnpool.pooling.AttentionPool` is switched to its
eager reference path in a copy of the model before export: fast kernels are custom autograd Functions that
exporters cannot see into, and the reference is the oracle they are tested against.

After writing, :func:`export_run` runs the file (onnxruntime / ``torch.jit.load``) on a shape different from the
one exported (other S and T, with masked steps holding NaN) and compares it with the eager model.
"""

from __future__ import annotations

import copy
import io
import logging
import warnings
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from .errors import AttnpoolError
from .models import SpatioTemporalNet
from .pooling import AttentionPool

FORMATS = ("onnx", "torchscript")
SUFFIX = {"onnx": ".onnx", "torchscript": ".pt"}
#: The shape the exporter traces with (S, T), and the different one the check runs.
EXAMPLE_SHAPE = (2, 16)
CHECK_SHAPE = (3, 23)
#: Largest |file - eager| accepted by the check (float32 through a different runtime).
TOLERANCE = 1e-4


@dataclass
class ExportResult:
    """What :func:`export_run` returns: the file, and the check's largest difference from eager PyTorch."""

    path: Path
    format: str
    max_difference: float
    check_shape: tuple[int, int, int, int]


class ExportWrapper(nn.Module):
    """``(x, mask) -> (output, weights)`` around a :class:`SpatioTemporalNet`: probabilities for classify."""

    def __init__(self, model: SpatioTemporalNet):
        super().__init__()
        self.model = model
        self.classify = model.task == "classify"

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        out, weights = self.model(x, mask)  # [S, K] logits | values in data units, [S, N, T]
        if self.classify:
            out = torch.softmax(out, dim=-1)
        return out, weights


def export_run(
    run_dir: str | Path,
    fmt: str = "onnx",
    out: str | Path | None = None,
    *,
    check: bool = True,
    opset: int | None = None,
    dynamo: bool = True,
) -> ExportResult:
    """Write the model of ``run_dir`` as ONNX or TorchScript, then check the file against eager PyTorch.

    Args:
        run_dir: a run directory (``model.pt``).
        fmt: ``"onnx"`` or ``"torchscript"`` (default: ``"onnx"``).
        out: the file to write (default: ``RUN/model.onnx`` or ``RUN/model.torchscript.pt``).
        check: run the file on a different S and T with masked steps and compare (default: True; ONNX needs
            onnxruntime, the ``export`` extra).
        opset: ONNX opset (default: the exporter's).
        dynamo: ONNX through ``torch.export`` (default: True; about 10 s) or the legacy TorchScript-based
            exporter (False; under a second). Both give a file with dynamic S and T that passes the same check.

    Returns:
        An :class:`ExportResult`; ``max_difference`` is NaN when ``check`` is False.

    Raises:
        ValueError: an unknown ``fmt``, or a file whose outputs differ from eager by more than 1e-4.
        ModuleNotFoundError: ONNX export without the ``export`` extra (``pip install 'attnpool[export]'``).

    Example:
        >>> export_run("runs/gp", "onnx", "gp.onnx").max_difference   # e.g. 2.4e-07
    """
    from .predictor import load_run

    if fmt not in FORMATS:
        raise AttnpoolError(f"fmt must be one of {', '.join(FORMATS)}, got {fmt!r}")
    predictor = load_run(run_dir)
    if out is None:
        out = Path(run_dir) / ("model.onnx" if fmt == "onnx" else "model.torchscript.pt")
    out = Path(out)
    if out.is_dir():
        raise AttnpoolError(f"out {out} is a directory; give a file name such as {out / ('model' + SUFFIX[fmt])}")
    out.parent.mkdir(parents=True, exist_ok=True)
    wrapper = ExportWrapper(reference_copy(predictor.model)).eval()
    example = example_inputs(wrapper.model, *EXAMPLE_SHAPE, seed=0)
    tmp = out.with_name(out.name + ".tmp")
    if fmt == "onnx":
        _export_onnx(wrapper, example, tmp, opset, dynamo)
    else:
        _export_torchscript(wrapper, example, tmp)
    tmp.replace(out)
    diff = float("nan")
    if check:
        S, T = CHECK_SHAPE
        x, mask = example_inputs(wrapper.model, S, T, seed=1, nan_at_masked=True)
        diff = max_difference(out, fmt, wrapper, x, mask)
        if not diff <= TOLERANCE:
            raise AttnpoolError(f"{out}: the exported file differs from eager PyTorch by {diff:.3g} at x {tuple(x.shape)} "
                             f"(tolerance {TOLERANCE})")
    N, F = wrapper.model.n_nodes, wrapper.model.n_features
    return ExportResult(out, fmt, diff, (CHECK_SHAPE[0], N, CHECK_SHAPE[1], F))


def reference_copy(model: SpatioTemporalNet) -> SpatioTemporalNet:
    """A deep copy of ``model`` in eval mode with every AttentionPool on its eager reference path."""
    model = copy.deepcopy(model).cpu().float().eval()
    for module in model.modules():
        if isinstance(module, AttentionPool):
            module.impl = "reference"
    return model


def example_inputs(model: SpatioTemporalNet, S: int, T: int, *, seed: int = 0,
                   nan_at_masked: bool = False) -> tuple[Tensor, Tensor]:
    """Random ``x [S, N, T, F]`` float32 and ``mask [S, N, T]`` with a few masked steps (every row keeps one
    valid step; the last node of the last sample has none, which must give zero weights, not NaN)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(S, model.n_nodes, T, model.n_features, generator=gen)
    mask = torch.rand(S, model.n_nodes, T, generator=gen) > 0.2
    mask[..., 0] = True
    if S > 1:
        mask[-1, -1] = False
    if nan_at_masked:
        x = x.masked_fill(~mask.unsqueeze(-1), float("nan"))
    return x, mask


def max_difference(path: str | Path, fmt: str, wrapper: nn.Module, x: Tensor, mask: Tensor) -> float:
    """Largest absolute difference over ``output`` and ``weights`` between the file and ``wrapper`` (eager)."""
    with torch.inference_mode():
        expected = [t.numpy() for t in wrapper(x, mask)]
    got = run_file(path, fmt, x.numpy(), mask.numpy())
    return max(float(np.abs(g - e).max()) if e.size else 0.0 for g, e in zip(got, expected))


def run_file(path: str | Path, fmt: str, x: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run an exported file: ``(output, weights)`` as numpy, through onnxruntime or ``torch.jit.load``."""
    if fmt == "onnx":
        session = onnx_session(path)
        output, weights = session.run(["output", "weights"], {"x": x.astype(np.float32), "mask": mask.astype(bool)})
        return output, weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated upstream, still supported
        module = torch.jit.load(str(path), map_location="cpu")
    with torch.inference_mode():
        output, weights = module(torch.from_numpy(np.asarray(x, dtype=np.float32)), torch.from_numpy(mask.astype(bool)))
    return output.numpy(), weights.numpy()


def onnx_session(path: str | Path):
    """An onnxruntime CPU session for ``path`` (one intra-op thread: small batches gain nothing from more)."""
    ort = _require("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _export_onnx(wrapper: nn.Module, example: tuple[Tensor, Tensor], path: Path, opset: int | None,
                 dynamo: bool) -> None:
    _require("onnx")
    names = dict(input_names=["x", "mask"], output_names=["output", "weights"])
    # The registry warns once per torchvision op it cannot find; torchvision plays no part here.
    registry = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registry.level
    registry.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            if dynamo:
                _require("onnxscript")
                from torch.export import Dim

                S, T = Dim("S"), Dim("T")  # x [S, N, T, F], mask [S, N, T]: N and F stay the run's
                shapes = {"x": {0: S, 2: T}, "mask": {0: S, 2: T}}
                program = torch.onnx.export(wrapper, example, dynamic_shapes=shapes, dynamo=True, opset_version=opset,
                                            external_data=False, verbose=False, **names)
                program.save(str(path))
            else:
                axes = {"x": {0: "S", 2: "T"}, "mask": {0: "S", 2: "T"}, "output": {0: "S"},
                        "weights": {0: "S", 2: "T"}}
                torch.onnx.export(wrapper, example, str(path), dynamic_axes=axes, dynamo=False,
                                  opset_version=opset or 17, **names)
    finally:
        registry.setLevel(level)


def _export_torchscript(wrapper: nn.Module, example: tuple[Tensor, Tensor], path: Path) -> None:
    # Tracing records the reference path's ops with symbolic sizes; the check then runs another S and T.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        traced = torch.jit.trace(wrapper, example, check_trace=False)
    traced.save(str(path))


def _require(name: str):
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        raise ModuleNotFoundError(f"{name} is needed for export: pip install 'attnpool[export]'", name=name) from None
