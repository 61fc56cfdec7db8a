"""Dataset loaders and generated data."""

from skmem.datasets.mediaeval import load_mediaeval2018
from skmem.datasets.synthetic import make_memorability_videos

# Further loaders are imported below, one line per module.
from skmem.datasets.lamem import load_lamem
from skmem.datasets.memento import load_memento10k

__all__ = ["load_lamem", "load_mediaeval2018", "load_memento10k", "make_memorability_videos"]
