"""The spec's walkthrough, replayed step by step with a fixed seed: [14, 30, 32] -> [14, 32]."""

from __future__ import annotations

import torch

from .pooling import AttentionPool, MeanPool

BATCHES, NODES, STEPS, CHANNELS = 2, 7, 30, 32


def walkthrough(seed: int = 0, print_fn=print) -> dict:
    """Run the spec's four steps on random features, printing each shape; return the tensors it made."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    pool = AttentionPool(CHANNELS, impl="reference").eval()
    feat = torch.randn(BATCHES * NODES, STEPS, CHANNELS, generator=generator)  # [B*N, T, C]
    say = print_fn
    say(f"attention pooling walkthrough (seed {seed}): {BATCHES} batches x {NODES} nodes = {BATCHES * NODES} "
        f"sequences, {STEPS} steps, {CHANNELS} features")
    say(f"  pool = {pool!r}: attention = Linear({CHANNELS}, {CHANNELS // 2}) -> ReLU -> Linear({CHANNELS // 2}, 1)")
    with torch.no_grad():
        say(f"  input        feat          {list(feat.shape)}")
        logits = pool.attention(feat)
        say(f"  step 1 score attn_logits   {list(logits.shape)}   (one score per step)")
        weights = torch.softmax(logits, dim=1)
        say(f"  step 2 soft  attn_weights  {list(weights.shape)}   (softmax over time, sums to 1)")
        weighted = feat * weights
        say(f"  step 3 mul   weighted_feat {list(weighted.shape)}  (each step scaled by its weight)")
        pooled = weighted.sum(dim=1)
        say(f"  step 4 sum   pooled        {list(pooled.shape)}       (30 steps -> 1 vector)")
        same, _ = pool(feat, return_weights=True)
        assert torch.allclose(same, pooled, atol=1e-6), "AttentionPool disagrees with the walkthrough"
        mean = MeanPool(CHANNELS)(feat)

    w0 = weights[0, :, 0]
    top = int(w0.argmax())
    say("")
    say(f"sequence 0: the 30 attention weights (sum = {float(w0.sum()):.6f}; largest at step {top}):")
    for t in range(STEPS):
        mark = "  <- largest" if t == top else ""
        say(f"  step {t:2d}: weight {float(w0[t]):.4f}  score {float(logits[0, t, 0]):+.4f}{mark}")
    say("")
    say("sequence 0, pooled vector (first 8 of 32 features): attention vs mean pooling")
    say("  attention: " + " ".join(f"{v:+.3f}" for v in pooled[0, :8].tolist()))
    say("  mean:      " + " ".join(f"{v:+.3f}" for v in mean[0, :8].tolist()))
    say(f"  distance between the two: {float((pooled[0] - mean[0]).norm()):.4f} "
        f"(uniform weights would give exactly the mean)")
    return {"feat": feat, "logits": logits, "weights": weights, "pooled": pooled, "mean": mean}
