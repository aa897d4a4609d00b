"""SpatioTemporalNet: per-node temporal encoder -> temporal pooling -> node mixer -> task head."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..pooling import make_pool
from ..pooling.last import last_valid
from ..tasks import TASKS
from .distribution import DistributionSummary
from .encoders import make_encoder
from .heads import NodeHead, SampleHead
from .input_scale import log_scales, signed_log
from .mixers import make_mixer

#: The summary head's default share ``w`` of the prediction when the model has one: ``(1 - w) p_network +
#: w p_summary`` (issue 9, R5: docs/research/issue9-recipe-r5.md). The training probe sets its own
#: (``summary_weight``, R6: :func:`attnpool.workflow.augment_probe.choose_summary_weight`).
SUMMARY_WEIGHT = 0.5


class SpatioTemporalNet(nn.Module):
    """A model for multi-node time series built around temporal attention pooling.

    ``x [B, N, T, F]`` -> encoder (shared over nodes) ``[B*N, T, C]`` -> pooling ``[B*N, C]`` (+ weights
    ``[B*N, T]``) -> ``[B, N, C]`` -> mixer ``[B, N, C]`` -> head. Classification with ``distribution=K`` adds
    a second head beside it: a linear layer on the order-free summary of each node's standardised series
    (:class:`~attnpool.models.distribution.DistributionSummary`: the fraction of steps above K thresholds, for
    the values and their dilated differences), ``[B, N*D*F*K] -> [B, classes]``; the prediction mixes the two
    heads' probabilities (:meth:`forward`).

    Inputs are standardised inside the model with per-node, per-feature statistics held as buffers
    (:meth:`fit_normalization`, from the training split), so a checkpoint predicts from raw data and
    regression/forecast outputs come back in the data's own units. Classify and regress first read a
    non-negative, strongly right-skewed feature (counts) on a log scale (:mod:`attnpool.models.input_scale`;
    the ``x_log_scale [N, F]`` buffer, 0 = none; :meth:`to_input_units`).

    Args:
        n_nodes: N.
        n_features: F, features per node and step.
        task: ``classify`` | ``regress`` | ``forecast``.
        out_features: classes (classify), D (regress) or H, the horizon (forecast).
        encoder: ``resconv`` | ``linear`` | ``tcn`` | ``gru`` (default: ``resconv``).
        pool: any name :func:`attnpool.make_pool` knows (default: ``attention``).
        mixer: ``none`` | ``graph`` | ``attention`` (default: ``none``).
        channels: C (default: 32, as in the spec).
        per_node: regress only: one D-vector per node ``[B, N, D]`` instead of per sample ``[B, D]``.
        adjacency: ``[N, N]`` for the graph mixer (None = learned).
        target_feature: forecast only: which feature of each node is forecast (default: 0).
        dropout: dropout in encoder, mixer and head (default: 0.1).
        pool_kwargs: extra arguments for the pooling (e.g. ``{"heads": 4}``).
        steps: the (longest) series length T the model is built for; ``resconv`` sets its depth from it (see
            :func:`~attnpool.models.resconv.depth_for_length`), so ``model.pt`` keeps it and rebuilds the same
            network. Any T works at prediction time (default: None, the encoder's own depth).
        distribution: classify only: K > 0 adds the summary head, K thresholds per dilation and feature (see
            above; the thresholds come from :meth:`fit_normalization`); 0 = off, the only choice before issue 9's
            R5 recipe, so a ``model.pt`` without it loads as before (default: 0).
        summary_weight: the summary head's share ``w`` of the predicted probabilities, in (0, 1) (default:
            :data:`SUMMARY_WEIGHT`, 0.5, which ``model.pt`` files from before it was recorded were trained with).
        stride: ``resconv``'s stem stride (the training recipe's rule:
            :func:`~attnpool.models.resconv.stride_for_length`; ``model.pt`` keeps it). Default: None, the
            encoder's own (1), which is also what a ``model.pt`` written before strides existed gets.
        device: where the parameters and buffers are created (default: torch's default device).
        dtype: their floating dtype (default: torch's default dtype, float32).

    Returns (forward): ``(prediction, weights)``; prediction is ``[B, n_classes]`` logits, ``[B, D]``/``[B, N, D]``
    or ``[B, N, H]``; weights ``[B, N, T]`` are the temporal pooling weights (multi-head: averaged over heads).
    """

    def __init__(
        self,
        n_nodes: int,
        n_features: int,
        task: str,
        out_features: int,
        *,
        encoder: str = "resconv",
        pool: str = "attention",
        mixer: str = "none",
        channels: int = 32,
        per_node: bool = False,
        adjacency=None,
        target_feature: int = 0,
        dropout: float = 0.1,
        pool_kwargs: dict | None = None,
        steps: int | None = None,
        stride: int | None = None,
        distribution: int = 0,
        summary_weight: float = SUMMARY_WEIGHT,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {task!r}")
        for name, value in (("n_nodes", n_nodes), ("n_features", n_features), ("out_features", out_features),
                            ("channels", channels)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
            raise ValueError(f"steps must be a positive int or None, got {steps!r}")
        if isinstance(distribution, bool) or not isinstance(distribution, int) or distribution < 0:
            raise ValueError(f"distribution must be an int >= 0 (thresholds per series; 0 = off), got {distribution!r}")
        if distribution and task != "classify":
            raise ValueError(f"distribution (the summary head) is for task 'classify', got distribution={distribution} "
                             f"with task {task!r}; use 0")
        if isinstance(summary_weight, bool) or not isinstance(summary_weight, (int, float)) \
                or not 0.0 < summary_weight < 1.0:
            raise ValueError(f"summary_weight must be a number in (0, 1) (the summary head's share), got "
                             f"{summary_weight!r}")
        if task == "forecast" and not 0 <= target_feature < n_features:
            raise ValueError(f"target_feature must be in [0, {n_features}), got {target_feature}")
        self.n_nodes, self.n_features, self.task = n_nodes, n_features, task
        self.out_features, self.per_node, self.target_feature = out_features, per_node, target_feature
        self.steps, self.stride, self.distribution = steps, stride, distribution
        self.summary_weight = float(summary_weight)
        factory = {"device": device, "dtype": dtype}
        self.encoder = make_encoder(encoder, n_features, channels, dropout=dropout, steps=steps, stride=stride,
                                    **factory)
        self.pool = _make_pool_on(pool, channels, dict(pool_kwargs or {}), factory)
        self.summary = self.summary_head = None
        if distribution:
            self.summary = DistributionSummary(n_nodes, n_features, levels=distribution, steps=steps, **factory)
            self.summary_head = nn.Sequential(nn.Dropout(dropout), nn.Linear(n_nodes * self.summary.out_features,
                                                                             out_features, **factory))
        self.mixer = make_mixer(mixer, channels, n_nodes, adjacency=adjacency, dropout=dropout, **factory)
        if task == "classify" or (task == "regress" and not per_node):
            self.head = SampleHead(n_nodes, channels, out_features, dropout=dropout, **factory)
        else:
            self.head = NodeHead(channels, out_features, **factory)
        # Normalisation buffers (identity until fit_normalization): x per node and feature, y per output.
        self.register_buffer("x_mean", torch.zeros(n_nodes, n_features, **factory))
        self.register_buffer("x_std", torch.ones(n_nodes, n_features, **factory))
        # The log rule's scale per node and feature (0 = the feature is read as it is); x_mean / x_std are the
        # statistics of the values after it. model.pt files from before it existed load with zeros.
        self.register_buffer("x_log_scale", torch.zeros(n_nodes, n_features, **factory))
        y_shape = ((n_nodes, out_features) if per_node else (out_features,)) if task == "regress" else ()
        self.register_buffer("y_mean", torch.zeros(y_shape, **factory))
        self.register_buffer("y_std", torch.ones(y_shape, **factory))

    @torch.no_grad()
    def fit_normalization(self, x: Tensor, mask: Tensor | None = None, y: Tensor | None = None) -> None:
        """Set the input (and regression target) statistics from training data.

        Classify and regress first set the log rule's scales (:func:`attnpool.models.input_scale.log_scales`:
        a feature whose values are all >= 0 and skewed at least ``LOG_SKEWNESS`` is read as ``log1p(x / s)``);
        the mean and std are then those of the values as the model reads them. Forecast never (its output is a
        change of the target in the data's own units).

        Args:
            x: ``[S, N, T, F]`` training inputs. mask: ``[S, N, T]``. y: regress targets ``[S, ...]``.
        """
        x = torch.as_tensor(x, dtype=torch.float64)
        valid = torch.ones(x.shape[:-1], dtype=torch.bool) if mask is None else torch.as_tensor(mask)
        w = valid.unsqueeze(-1).to(x.dtype)  # [S, N, T, 1]
        x = torch.where(valid.unsqueeze(-1), x, torch.zeros((), dtype=x.dtype))
        scales = (log_scales(x, None if mask is None else valid) if self.task != "forecast"
                  else torch.zeros(self.x_log_scale.shape, dtype=torch.float64))
        self.x_log_scale.copy_(scales)
        if bool((scales > 0).any()):  # no full-size temporaries for the common case
            x = signed_log(x, scales)
        count = w.sum(dim=(0, 2)).clamp_min(1.0)  # [N, 1]
        mean = (x * w).sum(dim=(0, 2)) / count  # [N, F]
        var = (((x - mean[None, :, None]) ** 2) * w).sum(dim=(0, 2)) / count
        mean_y = std_y = None
        if self.task == "regress" and y is not None:
            y = torch.as_tensor(y, dtype=torch.float64)
            # Statistics per output column (and node, for per-node targets), over samples.
            if y.shape[1:] != self.y_mean.shape:
                raise ValueError(f"y must have shape [S, {', '.join(map(str, self.y_mean.shape))}] for this model, "
                                 f"got {list(y.shape)}")
            mean_y, std_y = y.mean(0), y.std(0, unbiased=False)
        self.set_normalization(mean, var.sqrt(), mean_y, std_y)
        if self.summary is not None:
            valid = None if mask is None else valid
            self.summary.fit(self.standardize(x, valid, scaled=True), valid)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # A model.pt or checkpoint written before the log rule existed has no x_log_scale: it was trained on the
        # values as they are, which a scale of 0 reproduces.
        state_dict.setdefault(prefix + "x_log_scale", torch.zeros_like(self.x_log_scale))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def to_input_units(self, x: Tensor) -> Tensor:
        """Raw ``x [B, N, T, F]`` on the scale the model reads it (the log rule's ``sign(x) log1p(|x| / s)`` on
        the features it chose, the rest unchanged): the units of ``x_mean`` and ``x_std``, in which training
        augments. Identity for a model without such features."""
        exporting = torch.jit.is_tracing() or torch.compiler.is_compiling()
        if not exporting and not bool((self.x_log_scale > 0).any()):
            return x  # the common case, one check (an export always takes the branch-free path)
        return signed_log(x, self.x_log_scale)

    def standardize(self, x: Tensor, mask: Tensor | None = None, *, scaled: bool = False) -> Tensor:
        """``x [B, N, T, F]`` in the model's standardised units, zeros at masked steps (``mask [B, N, T]``), so NaN
        or inf there never enter: what the encoder and the distribution summary read. ``scaled``: ``x`` is
        already in :meth:`to_input_units`' units."""
        if not scaled:
            x = self.to_input_units(x)
        xn = (x - self.x_mean[:, None, :].to(x.dtype)) / self.x_std[:, None, :].to(x.dtype)
        if mask is not None:  # one fill replaces whatever was there, NaN included (x carries no gradient)
            xn = xn.masked_fill(~mask.unsqueeze(-1), 0.0)
        return xn

    def distribution_summary(self, x: Tensor, mask: Tensor | None = None) -> Tensor | None:
        """The standardised distribution summary ``[B, N, D*F*K]`` of raw ``x [B, N, T, F]`` (None when the
        model has none): what :meth:`forward` computes unless it is given one. The training recipe takes it from
        the clean batch before augmenting the inputs (:mod:`attnpool.train.module`)."""
        if self.summary is None:
            return None
        return self.summary(self.standardize(x, mask), mask)

    @torch.no_grad()
    def set_normalization(self, x_mean, x_std, y_mean=None, y_std=None) -> None:
        """Set the normalisation statistics directly, e.g. streamed over a series too large to window in memory
        (:meth:`attnpool.data.windows.SeriesWindows.input_statistics`).

        Args:
            x_mean, x_std: ``[N, F]`` per node and feature (numpy or torch); a std <= 1e-8 becomes 1.
            y_mean, y_std: regress only, the shape of one target (``[D]`` or ``[N, D]``); None keeps them.
        """
        for name, value, buffer in (("x_mean", x_mean, self.x_mean), ("x_std", x_std, self.x_std),
                                    ("y_mean", y_mean, self.y_mean), ("y_std", y_std, self.y_std)):
            if value is None:
                if name.startswith("x"):
                    raise ValueError(f"{name} is required")
                continue
            value = torch.as_tensor(value, dtype=torch.float64)
            if value.shape != buffer.shape:
                raise ValueError(f"{name} must have shape {list(buffer.shape)}, got {list(value.shape)}")
            if name.endswith("std"):
                value = torch.where(value > 1e-8, value, torch.ones_like(value))
            buffer.copy_(value)

    def forward(self, x: Tensor, mask: Tensor | None = None, summary: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``x [B, N, T, F]``, ``mask [B, N, T]`` (bool, True = valid) -> ``(prediction, weights [B, N, T])``.

        With a distribution summary (``distribution > 0``), the prediction is the log of the two heads' mixed
        probabilities, ``log((1 - w) softmax(network) + w softmax(summary head))``, ``w = summary_weight``:
        valid logits (softmax gives the mixture back). ``summary [B, N, D*F*K]``: the summary to use instead of
        ``x``'s own (see :meth:`distribution_summary`)."""
        out, summary_logits, weights = self.forward_parts(x, mask, summary)
        return (out if summary_logits is None else self.mix_heads(out, summary_logits)), weights

    def mix_heads(self, network_logits: Tensor, summary_logits: Tensor) -> Tensor:
        """``log((1 - w) softmax(network_logits) + w softmax(summary_logits))``, ``w = summary_weight``:
        ``[B, classes]``."""
        prob = ((1.0 - self.summary_weight) * torch.softmax(network_logits, -1)
                + self.summary_weight * torch.softmax(summary_logits, -1))
        return torch.log(prob.clamp_min(torch.finfo(prob.dtype).tiny))

    def forward_parts(self, x: Tensor, mask: Tensor | None = None, summary: Tensor | None = None, *,
                      scaled: bool = False) -> tuple[Tensor, Tensor | None, Tensor]:
        """``(network prediction, summary head's logits [B, classes] or None, weights [B, N, T])``: the two heads
        apart, as training needs them (each is trained on its own loss, :mod:`attnpool.train.module`).
        ``scaled``: ``x`` is already in :meth:`to_input_units`' units (training augments there)."""
        _check_input(x, mask, self.n_nodes, self.n_features)
        batch, nodes, steps, features = x.shape
        if mask is not None:
            x = x.masked_fill(~mask.unsqueeze(-1), 0.0)  # NaN/inf at padded steps never enter
        xn = self.standardize(x, mask, scaled=scaled)
        flat_mask = None if mask is None else mask.reshape(batch * nodes, steps)
        h = self.encoder(xn.reshape(batch * nodes, steps, features), flat_mask)  # [B*N, T, C]
        z, weights = self.pool(h, mask=flat_mask, return_weights=True)  # [B*N, C], [B*N, T] (or [B*N, T, k])
        if weights.dim() == 3:
            weights = weights.mean(-1)
        summary_logits = None
        if self.summary is not None:
            if summary is None:
                summary = self.summary(xn, mask)
            elif summary.shape != (batch, nodes, self.summary.out_features):
                raise ValueError(f"summary must have shape [{batch}, {nodes}, {self.summary.out_features}] ([B, N, "
                                 f"D*F*K]), got {tuple(summary.shape)}")
            summary_logits = self.summary_head(summary.reshape(batch, -1))
        z = z.reshape(batch, nodes, -1)  # [B, N, C]
        node_mask = None if mask is None else mask.any(-1)  # [B, N]
        z = self.mixer(z, node_mask)
        out = self.head(z)
        if self.task == "regress":
            out = out * self.y_std + self.y_mean
        elif self.task == "forecast":
            # Forecast the change from the last observed value, in the target's own scale.
            target = self.target_feature
            last = last_valid(x[..., target], mask)  # [B, N]
            out = last.unsqueeze(-1) + out * self.x_std[:, target].unsqueeze(-1)
        return out, summary_logits, weights.reshape(batch, nodes, steps)


def _make_pool_on(name: str, channels: int, kwargs: dict, factory: dict) -> nn.Module:
    """``make_pool`` with ``device`` / ``dtype``: passed on where the pooling takes them, else applied with ``.to``."""
    factory = {k: v for k, v in factory.items() if v is not None}
    if not factory:
        return make_pool(name, channels, **kwargs)
    try:
        return make_pool(name, channels, **kwargs, **factory)
    except TypeError:  # a pooling without factory arguments
        return make_pool(name, channels, **kwargs).to(**factory)


def _check_input(x: Tensor, mask: Tensor | None, n_nodes: int, n_features: int) -> None:
    if not isinstance(x, Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"x must have shape [B, N, T, F], got {shape}")
    if x.shape[1] != n_nodes or x.shape[3] != n_features:
        raise ValueError(f"x must have shape [B, {n_nodes}, T, {n_features}] (N={n_nodes} nodes, F={n_features} "
                         f"features), got {tuple(x.shape)}")
    if mask is not None and (mask.dtype != torch.bool or mask.shape != x.shape[:-1]):
        raise ValueError(f"mask must be bool with shape {tuple(x.shape[:-1])} ([B, N, T]), got {mask.dtype} "
                         f"{tuple(mask.shape)}")
