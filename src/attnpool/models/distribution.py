"""DistributionSummary: an order-free summary of each node's series, read by SpatioTemporalNet's second head.

``x [B, N, T, F]`` (standardised), ``mask [B, N, T]`` (True = valid) -> ``s [B, N, D * F * K]``: for each
dilation ``d`` in ``(0, 1, 2, 4, ...)`` the series ``v_d`` (``d = 0``: the values themselves; ``d > 0``: the
differences ``x[t + d] - x[t]`` over pairs of valid steps), and for each of ``K`` thresholds ``b`` of that series
and feature, the fraction of its valid steps above ``b``:

    s[b, n, (d, f, k)] = mean_t [ v_d[b, n, t, f] > thr[n, d, f, k] ]

the empirical distribution function read at ``K`` fixed points, or MiniRocket's "proportion of positive values"
with fixed difference kernels. The thresholds are the training data's quantiles at levels ``1/(K+1) ..
K/(K+1)`` per node, dilation and feature (:meth:`fit`, buffers, so ``model.pt`` and exported files hold them);
each summary feature is then standardised with its training mean and std (buffers too), so what the network
learns on top is independent of the batch.

Why (issue 9, ACSF1): on sets whose classes differ in the *distribution* of values and step-to-step changes
(an appliance's power over a day: how often it switches, how far), not in where things happen, a convolution
encoder trained on 100 series did not learn the sharp thresholds that separate them (0.85 against MiniRocket's
0.92); a logistic regression on this summary alone reached 0.92-0.95 there. On outline sets, where the order
of the steps is the information, it is weak (OSULeaf 0.78), so the network keeps its own head and the summary
gets a second one, mixed in at the share the training recipe's probe sets for the data
(docs/research/issue9-recipe-r5.md, -r6.md).

The summary has no parameters and no gradient with respect to ``x`` (it counts). Augmentations that perturb
values (jitter, scaling) move the counts at thresholds that sit in dense parts of the distribution, so the
training recipe computes the summary from the *clean* batch and mixes it like the inputs under mixup
(:mod:`attnpool.train.module`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

#: K, the thresholds per node, dilation and feature of the training recipe's default (``distribution="auto"``
#: for classification): the values' 1/34 .. 33/34 quantiles.
DEFAULT_LEVELS = 33

#: At most this many values per (node, dilation, feature) enter the threshold quantiles (a fixed-seed sample
#: beyond it): torch.quantile's input limit, and enough for thresholds at 1/(K+1) spacing.
MAX_QUANTILE_VALUES = 1_000_000


def dilations_for_length(steps: int | None, *, max_dilation: int = 32) -> tuple[int, ...]:
    """``(0, 1, 2, 4, ..., d)``: the values and their differences at powers of two with ``4 * d <= steps`` and
    ``d <= max_dilation`` (T=24 -> up to 4, T=84 -> 16, T>=128 -> 32). ``steps`` None: values and d = 1."""
    steps = 4 if steps is None else int(steps)
    out, d = [0], 1
    while d <= max_dilation and 4 * d <= steps:
        out.append(d)
        d *= 2
    return tuple(out)


class DistributionSummary(nn.Module):
    """The fraction of each series' valid steps above fixed thresholds, for the values and their dilated
    differences (module docstring).

    Args:
        n_nodes: N. n_features: F.
        levels: K, thresholds per node, dilation and feature (default: 33).
        steps: the (longest) series length; decides the dilations (:func:`dilations_for_length`).
        device, dtype: of the buffers.

    Shapes: ``x [B, N, T, F]``, ``mask [B, N, T]`` -> ``[B, N, out_features]``, ``out_features = D * F * K``.
    """

    def __init__(self, n_nodes: int, n_features: int, *, levels: int = DEFAULT_LEVELS, steps: int | None = None,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
            raise ValueError(f"levels must be a positive int, got {levels!r}")
        self.n_nodes, self.n_features, self.levels = n_nodes, n_features, levels
        self.dilations = dilations_for_length(steps)
        self.out_features = len(self.dilations) * n_features * levels
        factory = {"device": device, "dtype": dtype}
        self.register_buffer("thresholds", torch.zeros(n_nodes, len(self.dilations), n_features, levels, **factory))
        self.register_buffer("feature_mean", torch.zeros(n_nodes, self.out_features, **factory))
        self.register_buffer("feature_std", torch.ones(n_nodes, self.out_features, **factory))

    @staticmethod
    def _series(x: Tensor, mask: Tensor | None, d: int) -> tuple[Tensor, Tensor | None]:
        """``v_d [B, N, T, F]`` and its validity ``[B, N, T]``: for ``d > 0`` step ``t`` holds ``x[t + d] - x[t]``,
        valid when both steps are and ``t + d < T``. Built at full length from a right-padded shift (no slice with a
        negative end), so any T, shorter than ``d`` too, traces and exports alike."""
        if d == 0:
            return x, mask
        steps = x.shape[2]
        ahead = torch.cat([x[:, :, d:], x.new_zeros(x.shape[0], x.shape[1], d, x.shape[3])], dim=2)[:, :, :steps]
        inside = torch.arange(steps, device=x.device) < steps - d  # [T]
        valid = inside.expand(x.shape[0], x.shape[1], steps)
        if mask is not None:
            mask_ahead = torch.cat([mask[:, :, d:], mask.new_zeros(mask.shape[0], mask.shape[1], d)], dim=2)[:, :, :steps]
            valid = valid & mask & mask_ahead
        return ahead - x, valid

    @torch.no_grad()
    def fit(self, x: Tensor, mask: Tensor | None = None) -> None:
        """Thresholds and feature statistics from standardised training inputs ``x [S, N, T, F]``, ``mask [S, N, T]``."""
        x = torch.as_tensor(x, dtype=torch.float64)
        mask = None if mask is None else torch.as_tensor(mask, dtype=torch.bool)
        q = torch.linspace(0.0, 1.0, self.levels + 2, dtype=torch.float64)[1:-1]
        generator = torch.Generator().manual_seed(0)
        for i, d in enumerate(self.dilations):
            v, valid = self._series(x, mask, d)
            for n in range(self.n_nodes):
                for f in range(self.n_features):
                    values = v[:, n, :, f]
                    values = values.reshape(-1) if valid is None else values[valid[:, n]]
                    if values.numel() > MAX_QUANTILE_VALUES:
                        values = values[torch.randint(values.numel(), (MAX_QUANTILE_VALUES,), generator=generator)]
                    if values.numel():
                        self.thresholds[n, i, f] = torch.quantile(values, q).to(self.thresholds.dtype)
        self.feature_mean.zero_()
        self.feature_std.fill_(1.0)
        raw = self.counts(x.to(self.thresholds.dtype), mask)  # [S, N, out]
        self.feature_mean.copy_(raw.mean(0))
        std = raw.std(0, unbiased=False)
        self.feature_std.copy_(torch.where(std > 1e-3, std, torch.full_like(std, 1e-3)))

    def counts(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """The unstandardised fractions ``[B, N, D * F * K]`` in ``[0, 1]`` (0 for a node with no valid step)."""
        out = []
        for i, d in enumerate(self.dilations):
            v, valid = self._series(x, mask, d)
            if valid is not None:  # a masked value is never above a threshold
                v = v.masked_fill(~valid.unsqueeze(-1), float("-inf"))
            above = (v.unsqueeze(-1) > self.thresholds[None, :, i, None]).sum(2)  # [B, N, F, K]
            if valid is None:
                valid = torch.ones_like(v[..., 0], dtype=torch.bool)
            count = valid.sum(2)
            out.append((above.to(x.dtype) / count.clamp_min(1)[..., None, None].to(x.dtype)).flatten(2))
        return torch.cat(out, -1)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """``x [B, N, T, F]`` (standardised), ``mask [B, N, T]`` -> standardised summary ``[B, N, D * F * K]``."""
        return (self.counts(x, mask) - self.feature_mean) / self.feature_std


__all__ = ["DEFAULT_LEVELS", "DistributionSummary", "dilations_for_length"]
