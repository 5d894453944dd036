"""Skeleton: the helper building the demo replaces this file."""

import random


def seed(*, rng: random.Random) -> None:
    """Nothing yet."""
