"""An ensemble of SpatioTemporalNets with the same forward signature, and ``build_model`` for saved models.

``x [B, N, T, F]``, ``mask [B, N, T]`` -> every member -> averaged ``(prediction, weights [B, N, T])``:

- classify: the members' class probabilities are averaged, and the ensemble returns their log,
  ``log(mean_k softmax(logits_k))``: softmax of it gives the averaged probabilities back and argmax picks the
  same class, so everything written for a single net's logits (evaluate, predict, export) works unchanged;
- regress / forecast: the values (in data units) are averaged;
- weights: the members' attention weights are averaged, so they still sum to 1 over valid steps and
  ``explain`` shows the ensemble's weights.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .network import SpatioTemporalNet


class SpatioTemporalEnsemble(nn.Module):
    """K :class:`SpatioTemporalNet` members built alike, initialised from seeds ``seed .. seed + K - 1``.

    Member ``k`` is built under ``torch.manual_seed(seed + k)`` (the caller's random state is left as it
    was), so member 0 starts from the same weights as a single net built after ``torch.manual_seed(seed)``.
    Training trains each member on its own loss (:mod:`attnpool.train.module`); the ensemble only averages.

    Args:
        members: K >= 2.
        seed: seed of member 0's initialisation (default: None, members drawn from the current random state).
        **net_kwargs: the arguments of every member's :class:`SpatioTemporalNet`.

    Shapes: x ``[B, N, T, F]``, mask ``[B, N, T]`` -> prediction as a single net's, weights ``[B, N, T]``.
    """

    def __init__(self, members: int, *, seed: int | None = None, **net_kwargs):
        super().__init__()
        if isinstance(members, bool) or not isinstance(members, int) or members < 2:
            raise ValueError(f"members must be an int >= 2 (use SpatioTemporalNet for one), got {members!r}")
        nets = []
        for k in range(members):
            if seed is None:
                nets.append(SpatioTemporalNet(**net_kwargs))
                continue
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed + k)
                nets.append(SpatioTemporalNet(**net_kwargs))
        self.members = nn.ModuleList(nets)
        first = nets[0]
        # The attributes the workflow reads off a model (task, sizes, normalisation) are the members'.
        self.task, self.n_nodes, self.n_features = first.task, first.n_nodes, first.n_features
        self.out_features, self.per_node, self.target_feature = first.out_features, first.per_node, first.target_feature
        self.steps, self.stride = first.steps, first.stride

    @property
    def x_mean(self) -> Tensor:
        return self.members[0].x_mean

    @property
    def x_std(self) -> Tensor:
        return self.members[0].x_std

    @property
    def x_log_scale(self) -> Tensor:
        return self.members[0].x_log_scale

    @property
    def y_mean(self) -> Tensor:
        return self.members[0].y_mean

    @property
    def y_std(self) -> Tensor:
        return self.members[0].y_std

    @torch.no_grad()
    def fit_normalization(self, x: Tensor, mask: Tensor | None = None, y: Tensor | None = None) -> None:
        """Every member gets the same statistics (see :meth:`SpatioTemporalNet.fit_normalization`)."""
        for net in self.members:
            net.fit_normalization(x, mask, y)

    @torch.no_grad()
    def set_normalization(self, x_mean, x_std, y_mean=None, y_std=None) -> None:
        """Every member gets the same statistics (see :meth:`SpatioTemporalNet.set_normalization`)."""
        for net in self.members:
            net.set_normalization(x_mean, x_std, y_mean, y_std)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``x [B, N, T, F]``, ``mask [B, N, T]`` -> ``(averaged prediction, averaged weights [B, N, T])``."""
        outs, weights = zip(*(net(x, mask) for net in self.members))
        w = torch.stack(weights).mean(0)  # [K, B, N, T] -> [B, N, T]
        if self.task == "classify":
            # mean of probabilities, returned as log-probabilities (valid logits): [K, B, classes] -> [B, classes]
            prob = torch.stack([torch.softmax(o, dim=-1) for o in outs]).mean(0)
            return torch.log(prob.clamp_min(torch.finfo(prob.dtype).tiny)), w
        return torch.stack(outs).mean(0), w


def build_model(model_kwargs: dict, *, seed: int | None = None) -> nn.Module:
    """The model ``model.pt``'s ``model_kwargs`` describe: a :class:`SpatioTemporalNet`, or a
    :class:`SpatioTemporalEnsemble` when ``model_kwargs["members"]`` is 2 or more (``members`` 1 or absent: a
    single net, so files written before ensembles existed load as before).

    Args:
        model_kwargs: the net's arguments, plus ``members`` (default 1).
        seed: ensembles only: seed of member 0's initialisation (members ``k``: ``seed + k``).
    """
    kwargs = dict(model_kwargs)
    members = kwargs.pop("members", 1)
    if isinstance(members, bool) or not isinstance(members, int) or members < 1:
        raise ValueError(f"members must be an int >= 1, got {members!r}")
    if members == 1:
        return SpatioTemporalNet(**kwargs)
    return SpatioTemporalEnsemble(members, seed=seed, **kwargs)


__all__ = ["SpatioTemporalEnsemble", "build_model"]
