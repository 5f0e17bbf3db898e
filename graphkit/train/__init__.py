"""graphkit.train: configs, tasks, the training loop and multi-seed experiments."""
from graphkit.train.config import DataConfig, ExperimentConfig, OptimConfig, TrainConfig, apply_override
from graphkit.train.experiment import format_summary, run_experiment, summarize
from graphkit.train.host_syncs import HostSyncs
from graphkit.train.loop import fit
from graphkit.train.tasks import GraphTask, LinkTask, NodeTask

__all__ = ["DataConfig", "ExperimentConfig", "GraphTask", "HostSyncs", "LinkTask", "NodeTask", "OptimConfig",
           "TrainConfig", "apply_override", "fit", "format_summary", "run_experiment", "summarize"]
