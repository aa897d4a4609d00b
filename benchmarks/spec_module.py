"""The spec's attention pooling module, written out as the spec gives it (shared/spec/attention-pooling-seed.md).

The one copy: the speed benchmark times it and the tests use it as an independent reference
(``from benchmarks.spec_module import SpecAttentionPooling``; pytest puts the repository root on the path).
"""

import torch.nn.functional as F
from torch import nn


class SpecAttentionPooling(nn.Module):
    def __init__(self, in_dim=32):
        super().__init__()
        self.attention = nn.Sequential(nn.Linear(in_dim, in_dim // 2), nn.ReLU(), nn.Linear(in_dim // 2, 1))

    def forward(self, feat):  # [B*N, T, C]
        attn_logits = self.attention(feat)  # [B*N, T, 1]
        attn_weights = F.softmax(attn_logits, dim=1)  # [B*N, T, 1]
        return (feat * attn_weights).sum(dim=1)  # [B*N, C]
