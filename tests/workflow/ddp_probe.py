"""Run ``attnpool`` with the training batches each process builds recorded: ``python ddp_probe.py <args>``.

Lightning's DDP launcher starts the other processes by running this script again, so every process records
the sample indices of its training batches into ``$PROBE_DIR/rank<k>.txt`` (one line per batch)."""

import os
import sys

import torch.distributed as dist

from attnpool.cli import main
from attnpool.data.loader import SplitDataset

_getitems = SplitDataset.__getitems__


def _recording(self, positions):
    batch = _getitems(self, positions)
    if self.split == "train":
        rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
        with open(os.path.join(os.environ["PROBE_DIR"], f"rank{rank}.txt"), "a") as f:
            f.write(" ".join(str(int(i)) for i in batch["index"]) + "\n")
    return batch


SplitDataset.__getitems__ = _recording

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
