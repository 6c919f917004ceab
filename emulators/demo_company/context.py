"""What every generation step shares: the seed's random streams, the clock, the scale."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from .clock import Clock


@dataclass
class Context:
    seed: int
    scale: float
    clock: Clock
    plant: bool
    rng: np.random.Generator = field(init=False)
    py: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.py = random.Random(self.seed * 7919 + 17)

    def scaled(self, base: float, minimum: int) -> int:
        return max(minimum, int(round(base * self.scale)))
