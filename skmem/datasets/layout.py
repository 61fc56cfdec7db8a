"""Write generated data to disk in the layout and file formats of MediaEval 2018."""

import os

import numpy as np
from sklearn.utils import check_random_state

from skmem._validation import check_choice
from skmem.datasets.synthetic import GROUND_TRUTH_HEADER

__all__ = ["write_mediaeval_layout"]

_DESCRIPTORS = ("C3D", "HMP", "LBP")
_KEYFRAMES = (0, 56, 112)
_HMP_DIM = 6075


def _write(path, lines, *, bom):
    """Lines joined by CRLF, no final newline (and a UTF-8 BOM when ``bom``), as real copies are."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(("\ufeff" if bom else "").encode() + "\r\n".join(lines).encode("utf-8"))


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _c3d(rng, topics):
    """101 UCF101 class probabilities per clip, tilted by its topics."""
    return _softmax(2.5 * topics @ rng.normal(size=(topics.shape[1], 101)) + rng.normal(size=(len(topics), 101)))


def _hmp(rng, topics):
    """Sparse 6,075-bin motion histograms: each topic favours 60 bins, plus 40 random bins per clip."""
    favoured = rng.choice(_HMP_DIM, size=(topics.shape[1], 60), replace=False)
    histograms = np.zeros((len(topics), _HMP_DIM))
    for i, shares in enumerate(topics):
        for k in np.flatnonzero(shares):
            histograms[i, favoured[k]] += shares[k] * rng.exponential(size=60)
        histograms[i, rng.choice(_HMP_DIM, size=40, replace=False)] += 0.2 * rng.exponential(size=40)
    return histograms / histograms.sum(axis=1, keepdims=True)


def _lbp(rng, topics):
    """Three normalised 122-bin texture histograms per clip (one per key frame)."""
    pattern = 0.8 * topics @ rng.normal(size=(topics.shape[1], 122))
    frames = np.exp(pattern[:, None, :] + 0.3 * rng.normal(size=(len(topics), len(_KEYFRAMES), 122)))
    return frames / frames.sum(axis=2, keepdims=True)


def _dense(vector):
    return " ".join(f"{v:.6g}" for v in vector)


def write_mediaeval_layout(data, folder, *, subset="dev", descriptors=_DESCRIPTORS, random_state=None):
    """Write a generated dataset as a MediaEval 2018 ``<subset>-set/`` folder.

    Writes ``ground-truth/ground-truth_<subset>-set.csv`` (UTF-8 BOM, CRLF, no
    final newline, scores with 3 decimals), the captions file
    (``dev-set_video-captions.txt`` or ``test-set_videos-captions.txt``:
    ``video<TAB>caption``, CRLF, no final newline) and descriptor files under
    ``features/``: ``C3D/video<N>.txt`` (101 class probabilities summing to
    1), ``HMP/video<N>.txt`` (sparse 1-based ``bin:value`` pairs of a 6,075-bin
    histogram) and ``LBP/video<N>-{0,56,112}.txt`` (122-bin normalised
    histograms), exactly in the formats of the real files. Descriptors are
    drawn from each clip's planted topics, so they carry a weak memorability
    signal as the real low-level descriptors do. No clips are written:
    :func:`skmem.datasets.load_mediaeval2018` reads the folder back and warns
    that the clips themselves are absent.

    Parameters
    ----------
    data : Bunch
        From :func:`skmem.datasets.make_multimodal_memorability`.
    folder : str or path-like
        Created if missing; the dataset is written to ``folder/<subset>-set``.
    subset : {"dev", "test"}, default="dev"
    descriptors : sequence of {"C3D", "HMP", "LBP"}, default=("C3D", "HMP", "LBP")
    random_state : int, RandomState or None
        Seeds the descriptors.

    Returns
    -------
    str
        The ``<subset>-set`` folder.
    """
    check_choice(subset, "subset", ("dev", "test"))
    for kind in descriptors:
        check_choice(kind, "descriptors", _DESCRIPTORS)
    rng = check_random_state(random_state)
    root = os.path.join(os.path.expanduser(os.fspath(folder)), f"{subset}-set")
    frame = data.frame
    rows = [",".join(GROUND_TRUTH_HEADER)]
    for row in frame.itertuples(index=False):
        rows.append(
            f"{row.video},{row.short_term:.3f},{int(row.n_short_annotations)},"
            f"{row.long_term:.3f},{int(row.n_long_annotations)}"
        )
    _write(os.path.join(root, "ground-truth", f"ground-truth_{subset}-set.csv"), rows, bom=True)
    captions_name = "dev-set_video-captions.txt" if subset == "dev" else "test-set_videos-captions.txt"
    lines = [f"{video}\t{caption}" for video, caption in zip(frame["video"], frame["caption"])]
    _write(os.path.join(root, captions_name), lines, bom=False)
    topics = data.topics.to_numpy()
    stems = [os.path.splitext(v)[0] for v in frame["video"]]
    features = os.path.join(root, "features")
    if "C3D" in descriptors:
        for stem, vector in zip(stems, _c3d(rng, topics)):
            _write(os.path.join(features, "C3D", f"{stem}.txt"), [_dense(vector)], bom=False)
    if "HMP" in descriptors:
        for stem, vector in zip(stems, _hmp(rng, topics)):
            pairs = " ".join(f"{j + 1}:{vector[j]:.6g}" for j in np.flatnonzero(vector))
            _write(os.path.join(features, "HMP", f"{stem}.txt"), [pairs], bom=False)
    if "LBP" in descriptors:
        for stem, frames in zip(stems, _lbp(rng, topics)):
            for key, vector in zip(_KEYFRAMES, frames):
                _write(os.path.join(features, "LBP", f"{stem}-{key}.txt"), [_dense(vector)], bom=False)
    return root
