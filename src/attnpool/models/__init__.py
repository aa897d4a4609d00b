"""Models around temporal pooling: encoders, node mixers, heads and SpatioTemporalNet."""

from .encoders import ENCODERS, GRUEncoder, LinearEncoder, TCNEncoder, make_encoder
from .heads import TASKS, NodeHead, SampleHead
from .mixers import MIXERS, AttentionMixer, GraphMixer, NoMixer, make_mixer
from .network import SpatioTemporalNet

__all__ = [
    "ENCODERS", "MIXERS", "TASKS",
    "AttentionMixer", "GRUEncoder", "GraphMixer", "LinearEncoder", "NoMixer", "NodeHead", "SampleHead",
    "SpatioTemporalNet", "TCNEncoder", "make_encoder", "make_mixer",
]
