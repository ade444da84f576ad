"""An exponential moving average of a network's weights, the copy that training ships."""

from __future__ import annotations

import copy

from ._torch import nn, torch


class WeightAverage:
    """``average = d * average + (1 - d) * weights`` after every optimiser step.

    The decay ramps up as ``min(decay, (1 + t) / (10 + t))`` over the first updates, so a
    short run is not dominated by the initial weights. Buffers are copied, not averaged.

    Parameters
    ----------
    model : torch.nn.Module
        The network being trained; the average starts as a copy of it.
    decay : float
        Long-run decay in (0, 1).
    """

    def __init__(self, model: nn.Module, decay: float):
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay = float(decay)
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for average, current in zip(self.model.parameters(), model.parameters(), strict=True):
            average.lerp_(current.detach(), 1 - decay)
        for average, current in zip(self.model.buffers(), model.buffers(), strict=True):
            average.copy_(current)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "updates": torch.tensor(self.updates)}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.updates = int(state["updates"])
