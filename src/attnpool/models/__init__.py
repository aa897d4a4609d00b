"""Models around temporal pooling: encoders, node mixers, heads and SpatioTemporalNet."""

from .encoders import ENCODERS, GRUEncoder, LinearEncoder, ResConvEncoder, TCNEncoder, make_encoder
from .ensemble import SpatioTemporalEnsemble, build_model
from .heads import TASKS, NodeHead, SampleHead
from .mixers import MIXERS, AttentionMixer, GraphMixer, NoMixer, make_mixer
from .network import SpatioTemporalNet

__all__ = [
    "ENCODERS", "MIXERS", "TASKS",
    "AttentionMixer", "GRUEncoder", "GraphMixer", "LinearEncoder", "NoMixer", "NodeHead", "SampleHead",
    "ResConvEncoder", "SpatioTemporalEnsemble", "SpatioTemporalNet", "TCNEncoder", "build_model", "make_encoder",
    "make_mixer",
]
