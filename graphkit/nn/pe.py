"""Encoders of positional / structural encodings (computed by :mod:`graphkit.ops.pe`) into node features.

* :class:`LapPEEncoder`: a DeepSet over the ``k`` Laplacian eigenvectors: each ``(v_i[node], lambda_i)`` pair
  goes through an MLP and the results are summed over ``i`` (GraphGPS's LapPE). Eigenvectors have no
  canonical sign: ``sign_flip=True`` flips each graph's eigenvectors at random during training (GraphGPS's
  augmentation; the encoder is then not invariant, only trained towards it); ``sign_invariant=True``
  uses ``phi(v) + phi(-v)`` (SignNet's form), exactly invariant to every sign choice.
* :class:`RWSEEncoder`: batch norm and a linear map of the ``k`` return probabilities.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn


class LapPEEncoder(nn.Module):
    """Encodes the first ``k`` Laplacian eigenvectors of each graph into ``out_channels`` features.

    Each (eigenvector entry, eigenvalue) pair goes through a small MLP and is summed over the ``k`` pairs
    (padding masked). ``sign_flip``: random sign flips of the eigenvectors while training (GraphGPS's
    augmentation); ``sign_invariant``: phi(v) + phi(-v), exactly invariant to the sign ambiguity.
    """
    def __init__(self, k: int, out_channels: int, hidden: int = 32, sign_flip: bool = True,
                 sign_invariant: bool = False):
        super().__init__()
        self.k, self.sign_flip, self.sign_invariant = k, sign_flip, sign_invariant
        self.phi = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.rho = nn.Linear(hidden, out_channels)

    def forward(self, vecs: Tensor, vals: Tensor, valid: Tensor, batch: Tensor,
                generator: torch.Generator | None = None) -> Tensor:
        """``vecs: [N, k]``; ``vals, valid: [N, k]`` (each node carries its graph's eigenvalues / mask) ->
        ``[N, out_channels]``."""
        if vecs.dim() != 2 or vecs.size(1) != self.k:
            raise ValueError(f"LapPE encoder built for k={self.k}; got eigenvectors of shape {tuple(vecs.shape)}")
        if self.training and self.sign_flip and not self.sign_invariant:
            num_graphs = int(batch.max()) + 1 if batch.numel() else 0
            signs = torch.randint(0, 2, (num_graphs, self.k), generator=generator).to(vecs.device) * 2 - 1
            vecs = vecs * signs[batch].to(vecs.dtype)
        h = self.phi(torch.stack([vecs, vals], dim=-1))  # [N, k, hidden]
        if self.sign_invariant:
            h = h + self.phi(torch.stack([-vecs, vals], dim=-1))
        h = h * valid.unsqueeze(-1).to(h.dtype)  # padded eigenvectors contribute nothing
        return self.rho(h.sum(1))


class RWSEEncoder(nn.Module):
    """Random-walk structural encodings (return probabilities for 1..k steps) -> batch norm -> linear:
    ``[N, k] -> [N, out_channels]``.
    """
    def __init__(self, k: int, out_channels: int):
        super().__init__()
        self.norm = nn.BatchNorm1d(k)
        self.lin = nn.Linear(k, out_channels)

    def forward(self, rwse: Tensor) -> Tensor:
        return self.lin(self.norm(rwse))
