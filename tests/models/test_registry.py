"""Encoders and mixers by name, like make_pool: registries, spellings, options honoured or refused."""

import pytest
import torch

from attnpool.models import ENCODERS, MIXERS, AttentionMixer, GRUEncoder, make_encoder, make_mixer


def test_registries_map_names_to_classes():
    assert list(ENCODERS) == ["resconv", "linear", "tcn", "gru"] and list(MIXERS) == ["none", "graph", "attention"]
    assert type(make_encoder("GRU", 2, 8)) is ENCODERS["gru"]
    assert type(make_mixer("Attention", 8, 3)) is MIXERS["attention"]


def test_gru_layers_are_honoured_not_capped():
    assert make_encoder("gru", 2, 8).gru.num_layers == 2  # the encoder's own default
    assert make_encoder("gru", 2, 8, layers=3).gru.num_layers == 3
    assert len(make_encoder("tcn", 2, 8, layers=4).blocks) == 4
    with pytest.raises(ValueError, match="layers must be an int >= 1, got 0"):
        GRUEncoder(2, 8, layers=0)


def test_options_an_encoder_cannot_honour_are_refused():
    with pytest.raises(ValueError, match="encoder 'linear' has no option layers, got layers=2"):
        make_encoder("linear", 2, 8, layers=2)
    with pytest.raises(ValueError, match="unknown encoder 'lstm'; known encoders: resconv, linear, tcn, gru"):
        make_encoder("lstm", 2, 8)
    with pytest.raises(ValueError, match="unknown mixer 'gnn'; known mixers: none, graph, attention"):
        make_mixer("gnn", 8, 3)


def test_attention_mixer_refuses_heads_that_do_not_divide_channels():
    with pytest.raises(ValueError, match=r"heads must be a positive int that divides channels=30, got heads=4"):
        AttentionMixer(30, heads=4)
    mixer = make_mixer("attention", 30, 3, heads=5)
    assert mixer.layer.self_attn.num_heads == 5
    assert mixer(torch.randn(2, 3, 30)).shape == (2, 3, 30)
