"""from_pyg: a user's own PyG data as a Loaded (task, metric and splits inferred or given, checked once)."""
import pytest
import torch
from torch_geometric.data import Data, InMemoryDataset

from graphkit.data import from_pyg
from graphkit.data.root import DatasetFormatError
from graphkit.metrics import Accuracy, MeanAbsoluteError, RocAuc


def graphs(n=30, y=lambda i: torch.tensor([i % 3]), seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        k = 3 + i % 4
        out.append(Data(x=torch.randn(k, 5, generator=g), edge_index=torch.randint(0, k, (2, 2 * k), generator=g),
                        y=y(i)))
    return out


class _InMemory(InMemoryDataset):
    def __init__(self, data_list):
        super().__init__(None)
        self.data, self.slices = self.collate(data_list)


@pytest.mark.parametrize("make, task, outputs, metric", [
    (lambda i: torch.tensor([i % 3]), "multiclass", 3, Accuracy),
    (lambda i: torch.tensor([[float(i % 2), float("nan") if i % 5 == 0 else 1.0 - i % 2]]), "binary", 2, RocAuc),
    (lambda i: torch.tensor([0.5 * i]), "regression", 1, MeanAbsoluteError),
])
@pytest.mark.parametrize("container", ["list", "dataset"])
def test_graph_level_task_metric_and_split_are_inferred(make, task, outputs, metric, container):
    data = graphs(y=make)
    loaded = from_pyg(data if container == "list" else _InMemory(data), split=(0.6, 0.2, 0.2))
    assert (loaded.level, loaded.task, loaded.num_outputs, loaded.num_features) == ("graph", task, outputs, 5)
    assert isinstance(loaded.metric, metric)
    ids = torch.cat([loaded.split[k] for k in ("train", "valid", "test")])
    assert ids.sort().values.tolist() == list(range(30))          # a partition of the graphs
    if task == "multiclass":                                      # stratified: 6 of each class in train
        ys = torch.tensor([i % 3 for i in range(30)])
        assert ys[loaded.split["train"]].bincount().tolist() == [6, 6, 6]


def test_split_forms_and_named_errors():
    data = graphs()
    mask = torch.zeros(30, dtype=torch.bool)
    mask[:20] = True
    loaded = from_pyg(data, split={"train": mask, "valid": torch.arange(20, 25), "test": torch.arange(25, 30)})
    assert loaded.split["train"].tolist() == list(range(20))       # the masked graphs, not graphs 0 and 1
    with pytest.raises(DatasetFormatError, match="'train' and 'test' overlap in 5"):
        from_pyg(data, split={"train": torch.arange(20), "test": torch.arange(15, 30)})
    with pytest.raises(DatasetFormatError, match="a mask of 10 entries for 30 items"):
        from_pyg(data, split={"train": mask[:10]})
    with pytest.raises(DatasetFormatError, match=r"ids must lie in \[0, 30\)"):
        from_pyg(data, split={"train": torch.tensor([0, 30])})
    with pytest.raises(DatasetFormatError, match="fractions"):
        from_pyg(data, split=(0.9, 0.5, 0.1))
    with pytest.raises(DatasetFormatError, match="dict of index tensors"):
        from_pyg(data, split="random")
    with pytest.raises(DatasetFormatError, match="class ids must be >= 0"):
        from_pyg(graphs(y=lambda i: torch.tensor([i % 3 - 1])))
    with pytest.raises(DatasetFormatError, match="needs targets in"):
        from_pyg(graphs(y=lambda i: torch.tensor([0.5 * i])), task="binary")
    no_x = graphs()
    no_x[0].x = None
    with pytest.raises(DatasetFormatError, match="no node features"):
        from_pyg(no_x)
    with pytest.raises(DatasetFormatError, match="PyG Data, a list of Data or a PyG Dataset"):
        from_pyg({"x": 1})


def test_node_level_with_masks_and_fractions():
    n = 40
    g = torch.Generator().manual_seed(1)
    data = Data(x=torch.randn(n, 6, generator=g), edge_index=torch.randint(0, n, (2, 120), generator=g),
                y=torch.arange(n) % 4)
    data.train_mask = torch.arange(n) < 20
    data.val_mask = (torch.arange(n) >= 20) & (torch.arange(n) < 30)
    data.test_mask = torch.arange(n) >= 30
    loaded = from_pyg(data)
    assert (loaded.level, loaded.task, loaded.num_outputs) == ("node", "multiclass", 4)
    assert loaded.split["train"].tolist() == list(range(20)) and loaded.split["test"].tolist() == list(range(30, 40))
    frac = from_pyg(data, split=(0.5, 0.25, 0.25), seed=3)
    assert sorted(len(frac.split[k]) for k in ("train", "valid", "test")) == [10, 10, 20]
    with pytest.raises(DatasetFormatError, match="y has 39 rows"):
        from_pyg(Data(x=data.x, edge_index=data.edge_index, y=data.y[:-1]))


def test_own_graphs_train_in_five_lines(tmp_path):
    """The guide's promise: own data to a trained model in a few lines, through the usual trainer."""
    from graphkit.models import GIN, GINConfig
    from graphkit.train import ExperimentConfig, run_experiment

    loaded = from_pyg(graphs(y=lambda i: torch.tensor([i % 2])), split=(0.6, 0.2, 0.2))
    cfg = ExperimentConfig(model="gin", dataset="mine")
    cfg.train.epochs = 2
    report = run_experiment(cfg, loaded, lambda: GIN(GINConfig(in_channels=loaded.num_features,
                                                               out_channels=loaded.num_outputs)),
                            tmp_path / "run", progress=False, log=lambda s: None)
    assert report["summary"]["status"] == "ok" and 0 <= report["summary"]["test"]["mean"] <= 1


@pytest.mark.parametrize("form", ["list", "collated", "function"])
def test_cli_trains_own_data_from_a_file_or_a_function(form, tmp_path, capsys, monkeypatch):
    """`graphkit train --model gin --dataset graphs.pt` (or module:function): one CLI line for own data."""
    import sys

    from graphkit.cli import main

    data = graphs(y=lambda i: torch.tensor([i % 2]))
    if form == "function":
        (tmp_path / "mygraphs.py").write_text(
            "import torch\nfrom tests.data.test_from_pyg import graphs\n"
            "def make():\n    return graphs(y=lambda i: torch.tensor([i % 2]))\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        spec = "mygraphs:make"
    else:
        spec = str(tmp_path / "graphs.pt")
        torch.save(data if form == "list" else _InMemory(data).collate(data), spec)
    assert main(["train", "--model", "gin", "--dataset", spec, "--split", "0.6,0.2,0.2", "--epochs", "2",
                 "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert "test acc" in capsys.readouterr().out
    sys.modules.pop("mygraphs", None)


def test_a_pickled_dataset_object_is_refused(tmp_path):
    from graphkit.data.from_pyg import load_pyg_file

    torch.save(_InMemory(graphs()), tmp_path / "ds.pt")
    with pytest.raises(DatasetFormatError, match=r"Save list\(dataset\)"):
        load_pyg_file(tmp_path / "ds.pt")
