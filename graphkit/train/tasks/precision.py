"""Mixed precision and the optimiser step of every task (autocast, GradScaler, clipping)."""
from __future__ import annotations

import typing

import torch
from torch import Tensor

from graphkit.train.config import Amp, check_choice


class Precision:
    """Mixed precision for a task's forward passes: ``with precision.autocast(): ...`` and
    ``precision.step(loss, model, optimizer, clip)`` (backward, loss scaling for fp16 on CUDA, clipping, step).

    ``amp``: ``"none"``, ``"bf16"`` (CPU or CUDA autocast, no scaling needed) or ``"fp16"`` (CUDA only, with
    a gradient scaler).
    """

    def __init__(self, amp: Amp, device: torch.device):
        check_choice("train.amp", amp, typing.get_args(Amp))
        if amp == "fp16" and device.type != "cuda":
            raise ValueError("train.amp='fp16' needs CUDA (loss scaling for half precision); use 'bf16' on CPU")
        self.amp, self.device = amp, device
        self.scaler = torch.amp.GradScaler("cuda") if amp == "fp16" else None

    def autocast(self):
        """The autocast context for forward passes (a no-op context for ``amp='none'``)."""
        import contextlib

        if self.amp == "none":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.amp == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def step(self, loss: Tensor, model, optimizer, clip: float = 0.0) -> None:
        """Backward (scaled for fp16), optional gradient clipping, optimizer step."""
        optimizer.zero_grad()
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            if clip > 0:
                self.scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            self.scaler.step(optimizer)
            self.scaler.update()
            return
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
