"""The default batch size: a rule on the data's size, so a small set gets the many small steps it needs and a
big one is not bound by per-step overhead or memory.

``default_batch_size(n_train, n_nodes, n_steps)`` is the smaller of

- by samples: 16 up to 4,096 training samples (the UEA/UCR sets of benchmarks/uea_accuracy.py, 36-270 samples,
  need the 300 small steps of the recipe); above that ``n_train / 256`` rounded down to a power of two, at most
  256, so an epoch is about 256 steps whatever the set's size (20,000 samples -> 64: each step's fixed cost, a
  few milliseconds in Lightning and the optimizer, is spread over more samples);
- by memory: the largest power of two with ``batch * n_nodes * n_steps <= 2**15`` node-steps (at least 1). A
  training step of the default model holds several KB per node-step (activations and their gradients: the
  whole process held 1.96 GB of anonymous memory training at batch 64 x 207 nodes x 12 steps = 159k
  node-steps, measured with benchmarks/data_scale.py), so a batch stays at a few hundred MB whatever the
  number of nodes (207 nodes x 12 steps -> 8; 10,000 nodes x 12 steps -> 1). The whole `attnpool train` of
  a 207-node CSV then stays under 1 GB of RSS (torch and Lightning alone take 0.48 GB).

``--batch-size`` (``TrainConfig.batch_size``) given as an int is used as it is.
"""

from __future__ import annotations

import math

SMALL_SET = 4096  # up to this many training samples: batch 16
STEPS_PER_EPOCH = 256  # above it: about this many batches per epoch
MAX_BATCH = 256
MAX_NODE_STEPS = 2**15  # node-steps per batch (batch x nodes x steps)


def default_batch_size(n_train: int, n_nodes: int, n_steps: int) -> int:
    """The batch size of the rule in the module docstring (all arguments >= 1)."""
    for name, value in (("n_train", n_train), ("n_nodes", n_nodes), ("n_steps", n_steps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    by_samples = 16 if n_train <= SMALL_SET else min(MAX_BATCH, _pow2_floor(n_train / STEPS_PER_EPOCH))
    by_memory = max(1, _pow2_floor(MAX_NODE_STEPS / (n_nodes * n_steps)))
    return min(by_samples, by_memory)


def _pow2_floor(value: float) -> int:
    return 2 ** math.floor(math.log2(value)) if value >= 1 else 0


__all__ = ["MAX_NODE_STEPS", "default_batch_size"]
