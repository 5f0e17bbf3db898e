"""Device-assembled batches equal PyG's DataLoader batches, and training on them equals training on PyG's."""
import numpy as np
import pytest
import torch
from torch_geometric.data import Data, InMemoryDataset
from torch_geometric.loader import DataLoader

from graphkit.data.graph_sets import GraphList
from graphkit.data.graph_store import GraphStore, _expand
from graphkit.ops import check


def molecules(n_graphs=40, seed=0, empty_every=7, nan_every=5):
    """Molecule-like graphs: integer atom/bond features, a [1, 2] target with a NaN, some graphs without edges."""
    g = torch.Generator().manual_seed(seed)
    graphs = []
    for i in range(n_graphs):
        n = int(torch.randint(1, 9, (1,), generator=g))
        e = 0 if i % empty_every == 0 else int(torch.randint(1, 12, (1,), generator=g))
        y = torch.randint(0, 2, (1, 2), generator=g).float()
        if nan_every and i % nan_every == 0:
            y[0, 1] = float("nan")
        graphs.append(Data(x=torch.randint(0, 2, (n, 9), generator=g),
                           edge_index=torch.randint(0, n, (2, e), generator=g),
                           edge_attr=torch.randint(0, 2, (e, 3), generator=g), y=y))
    return graphs


class _InMemory(InMemoryDataset):
    def __init__(self, graphs):
        super().__init__(None)
        self.data, self.slices = self.collate(graphs)


def assert_same_batch(ref, got):
    assert sorted(ref.keys()) == sorted(got.keys())
    for k in ref.keys():
        a, b = ref[k], got[k]
        if torch.is_tensor(a):
            assert a.dtype == b.dtype and torch.equal(a.nan_to_num(-7), b.nan_to_num(-7)), k
        else:
            assert a == b, k
    assert ref.num_graphs == got.num_graphs


@pytest.mark.parametrize("kind", ["list", "in-memory", "in-memory-view"])
def test_batches_equal_pyg_dataloader(kind):
    graphs = molecules()
    dataset = {"list": lambda: GraphList(graphs), "in-memory": lambda: _InMemory(graphs),
               "in-memory-view": lambda: _InMemory(graphs)[torch.arange(39, -1, -2)]}[kind]()
    store = GraphStore.from_dataset(dataset, torch.device("cpu"))
    assert store is not None and len(store) == len(dataset)
    rng = np.random.default_rng(0)
    for size in (1, 3, 8, len(dataset)):
        pos = rng.permutation(len(dataset))[:size].tolist()
        ref = next(iter(DataLoader(dataset[pos], batch_size=size)))
        assert_same_batch(ref, store.batch(pos))


def test_batches_equal_pyg_on_real_data():
    from conftest import require_data

    from graphkit.data.tu import load_tu

    root = require_data("tu", "MUTAG")
    ds = load_tu("MUTAG", root, download=False).dataset
    store = GraphStore.from_dataset(ds, torch.device("cpu"))
    pos = torch.randperm(len(ds), generator=torch.Generator().manual_seed(1))[:64].tolist()
    assert_same_batch(next(iter(DataLoader(ds[pos], batch_size=64))), store.batch(pos))


def test_batches_are_vouched_so_layers_read_nothing_back():
    store = GraphStore.from_graphs(molecules(), torch.device("cpu"))
    b = store.batch([3, 1, 2])
    assert b.edge_index.__dict__[check._FACTS]["range"][1] == (0, (b.num_nodes, b.num_nodes))
    assert check.column_range(b.x)[1] == check.column_range(store.values["x"], exact=True)[1]
    b.edge_index.add_(100)  # an in-place write forgets what was vouched
    with pytest.raises(ValueError, match="out of range"):
        check.check_edge_index(b.edge_index, b.num_nodes, b.num_nodes)


def test_expand_is_repeat_interleave_with_empty_segments():
    counts = torch.tensor([2, 0, 3, 0, 0, 1, 0])
    values = torch.tensor([5, 9, -1, 4, 4, 7, 3])
    starts = torch.cumsum(counts, 0) - counts
    assert torch.equal(_expand(values, starts, 6), torch.repeat_interleave(values, counts))


def test_bad_graphs_and_unsupported_datasets():
    graphs = molecules(6)
    graphs[4].edge_index = torch.tensor([[0], [graphs[4].num_nodes]])
    graphs[4].edge_attr = torch.zeros(1, 3, dtype=torch.long)
    with pytest.raises(ValueError, match="graph 4 has an edge .* outside its"):
        GraphStore.from_graphs(graphs, torch.device("cpu"))
    ds = _InMemory(molecules(6))
    ds.transform = lambda d: d
    assert GraphStore.from_dataset(ds, torch.device("cpu")) is None          # per-graph transforms: PyG's path
    mixed = molecules(4)
    mixed[2].extra = torch.zeros(1)
    assert GraphStore.from_graphs(mixed, torch.device("cpu")) is None         # graphs with different attributes


def _train(collate, iters=0):
    from graphkit.data.bundle import Loaded
    from graphkit.metrics import RocAuc
    from graphkit.models import MolGNN, MolGNNConfig
    from graphkit.train.config import TrainConfig
    from graphkit.train.tasks import GraphTask

    loaded = Loaded("mols", "graph", "binary", 9, 2, RocAuc(), dataset=_InMemory(molecules(60, nan_every=0)))
    split = {"train": torch.arange(0, 40), "valid": torch.arange(40, 50), "test": torch.arange(50, 60)}
    task = GraphTask(loaded, split, TrainConfig(batch_size=8, collate=collate, iters_per_epoch=iters),
                     torch.device("cpu"))
    assert (task.store is not None) == (collate == "auto")
    torch.manual_seed(0)
    model = MolGNN(MolGNNConfig(num_tasks=2, virtual_node=True, hidden=16, num_layers=2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(3)
    losses = [task.train_epoch(model, opt, gen) for _ in range(2)]
    return losses, task.evaluate(model), model.state_dict(), gen.get_state()


@pytest.mark.parametrize("iters", [0, 3])
def test_training_on_device_batches_equals_training_on_pyg_batches(iters):
    a, b = _train("auto", iters), _train("pyg", iters)
    assert a[0] == b[0] and a[1] == b[1]
    assert all(torch.equal(a[2][k], b[2][k]) for k in a[2])
    assert torch.equal(a[3], b[3])  # the generator advanced identically: later epochs match too


def test_boolean_mask_splits_select_the_masked_graphs():
    """A mask given as a split selects the graphs it marks (never graphs 0 and 1 read as ids); bad parts are named."""
    from graphkit.data.bundle import Loaded
    from graphkit.data.root import DatasetFormatError
    from graphkit.metrics import RocAuc
    from graphkit.train.config import TrainConfig
    from graphkit.train.tasks import GraphTask

    loaded = Loaded("mols", "graph", "binary", 9, 2, RocAuc(), dataset=_InMemory(molecules(20, nan_every=0)))
    mask = torch.zeros(20, dtype=torch.bool)
    mask[[3, 7, 11]] = True
    task = GraphTask(loaded, {"train": mask, "valid": torch.tensor([1, 2]), "test": ~mask}, TrainConfig(),
                     torch.device("cpu"))
    assert task.split["train"].tolist() == [3, 7, 11] and len(task.split["test"]) == 17
    with pytest.raises(DatasetFormatError, match="a mask of 5 entries for 20 items"):
        GraphTask(loaded, {"train": mask[:5]}, TrainConfig(), torch.device("cpu"))
    with pytest.raises(DatasetFormatError, match=r"ids must lie in \[0, 20\)"):
        GraphTask(loaded, {"train": torch.tensor([0, 25])}, TrainConfig(), torch.device("cpu"))
