"""Write descriptor, CSV and split files in the exact formats of the real datasets.

Real copies carry a UTF-8 BOM, CRLF line ends and often no final newline; the
writers below reproduce that (``dirty=True``) so parsers meet what users have.
"""

from pathlib import Path

import numpy as np

BOM = "\ufeff"


def write_text(path, lines, *, dirty=True):
    """Write ``lines``; when ``dirty``: BOM, CRLF, no final newline."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if dirty:
        data = BOM + "\r\n".join(lines)
    else:
        data = "\n".join(lines) + "\n"
    path.write_bytes(data.encode("utf-8"))
    return path


def sparse_line(vector, base):
    """``index:value`` pairs of the non-zero entries (index starting at ``base``)."""
    idx = np.flatnonzero(vector)
    return " ".join(f"{i + base}:{vector[i]:.6g}" for i in idx)


def dense_line(vector, sep=" "):
    return sep.join(f"{v:.6g}" for v in vector)


def make_c3d(rng):
    logits = rng.normal(size=101)
    p = np.exp(logits - logits.max())
    return p / p.sum()


def make_sparse(rng, dim, density=0.05):
    v = np.zeros(dim)
    idx = rng.choice(dim, size=max(1, int(dim * density)), replace=False)
    v[idx] = rng.random(idx.size) + 0.01
    return v


def write_mediaeval_features(root, n_clips, *, rng, keyframes=(0, 56, 112), hog_lengths=(30, 45)):
    """Write every MediaEval 2018 descriptor kind for ``video1 ... video<n_clips>``.

    Returns a dict ``kind -> {clip name -> array written}`` (per key frame for the
    key-frame kinds) so tests can compare what is read with what was written.
    """
    root = Path(root)
    kinds = ("C3D", "HMP", "aesthetics", "LBP", "HOG", "InceptionV3", "ColorHistogram", "ORB")
    truth = {k: {} for k in kinds}
    for n in range(1, n_clips + 1):
        name = f"video{n}"
        c3d = make_c3d(rng)
        write_text(root / "C3D" / f"{name}.txt", [dense_line(c3d)])
        truth["C3D"][name] = c3d
        hmp = make_sparse(rng, 6075, 0.02)
        hmp[6074] = 0.5  # the last bin exercises the 1-based upper bound
        write_text(root / "HMP" / f"{name}.txt", [sparse_line(hmp, 1)])
        truth["HMP"][name] = hmp
        aes = rng.random(109)
        write_text(root / "aesthetic_feat_dev-set_mean" / f"{name}.txt", [dense_line(aes, ",")])
        truth["aesthetics"][name] = aes
        for kind in ("LBP", "HOG", "InceptionV3", "ColorHistogram", "ORB"):
            truth[kind][name] = []
        for j, k in enumerate(keyframes):
            stem = f"{name}-{k}.txt"
            lbp = rng.random(122)
            lbp /= lbp.sum()
            write_text(root / "LBP" / stem, [dense_line(lbp)])
            truth["LBP"][name].append(lbp)
            hog = rng.random(hog_lengths[(n + j) % len(hog_lengths)])
            write_text(root / "HOG" / stem, [dense_line(hog)])
            truth["HOG"][name].append(hog)
            inc = make_sparse(rng, 1000, 0.01)
            write_text(root / "InceptionV3" / stem, [sparse_line(inc, 0)])
            truth["InceptionV3"][name].append(inc)
            hist = np.stack([make_sparse(rng, 256, 0.2) for _ in range(3)])
            hist[0, 255] = 1.0  # every file reaches bin 255
            write_text(root / "ColorHistogram" / stem, [sparse_line(h, 0) for h in hist])
            truth["ColorHistogram"][name].append(hist.ravel())
            orb = rng.integers(0, 256, size=(5, 34)).astype(float)
            write_text(root / "ORB" / stem, [dense_line(r) for r in orb])
            truth["ORB"][name].append(orb.mean(axis=0))
    return truth


def write_lamem(root, rng, *, n_images=12, splits=(1, 2)):
    """LaMem layout: ``images/<8 digits>.jpg`` and ``splits/{train,val,test}_<k>.txt``."""
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    names = [f"{i:08d}.jpg" for i in range(1, n_images + 1)]
    for name in names:
        (root / "images" / name).write_bytes(b"\xff\xd8\xff\xe0not-a-real-jpeg")
    scores = {}
    for k in splits:
        order = rng.permutation(n_images)
        parts = np.split(order, [n_images // 2, 3 * n_images // 4])
        for subset, part in zip(("train", "val", "test"), parts):
            values = np.round(rng.uniform(0.4, 1.0, size=part.size), 4)
            lines = [f"{names[i]} {v:.4f}" for i, v in zip(part, values)]
            write_text(root / "splits" / f"{subset}_{k}.txt", lines)
            scores[(k, subset)] = dict(zip((names[i] for i in part), values))
    return names, scores


def write_memento_csvs(folder, rng, *, n_videos=6, prefix="train", wide=True, with_scores=True):
    """MediaEval 2021 Memento10k CSVs; captions quoted, one with an embedded newline."""
    folder = Path(folder)
    ids = list(range(1, n_videos + 1))
    score_rows = ["video_id,video_url,annotations_short_term,scores_raw_short_term,"
                  "scores_normalized_short_term,decay_alpha"]
    truth = {}
    for i in ids:
        raw = round(float(rng.uniform(0.5, 1.0)), 4)
        norm = round(raw - 0.02, 4)
        alpha = round(float(rng.uniform(-0.1, 0.0)), 4)
        score_rows.append(f"{i},https://example.org/{i:05d}.mp4,{90 + i},{raw},{norm},{alpha}")
        truth[i] = {"raw": raw, "norm": norm, "alpha": alpha, "n": 90 + i}
    captions = {i: [f"a person number {i} does thing {j}" for j in range(5)] for i in ids}
    captions[ids[0]][1] = 'a man says "hello"\nthen walks, slowly'
    if wide:
        text_rows = ["video_id," + ",".join(f"description_{j}" for j in range(5))]
        for i in ids:
            text_rows.append(f"{i}," + ",".join(_quote(c) for c in captions[i]))
    else:
        text_rows = ["video_id,description"]
        for i in ids:
            text_rows.extend(f"{i},{_quote(c)}" for c in captions[i])
    if with_scores:
        write_text(folder / f"{prefix}_scores.csv", score_rows)
    write_text(folder / f"{prefix}_text_descriptions.csv", text_rows)
    videos = folder / "Videos"
    videos.mkdir(parents=True, exist_ok=True)
    for i in ids[:-1]:  # the last clip's video is absent
        (videos / f"{i:05d}.mp4").write_bytes(b"\x00")
    return ids, truth, captions


def _quote(text):
    return '"' + text.replace('"', '""') + '"'


def write_feature_matrix(path, matrix, *, dirty=True):
    """A feature matrix as shared: ``.npy``, ``.npz`` (one array), or text rows.

    Text is comma-separated in ``.csv`` and space-separated otherwise, with
    the line ends of ``write_text``. Returns the array as written (text keeps
    six significant digits).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        np.save(path, matrix)
        return np.asarray(matrix)
    if suffix == ".npz":
        np.savez(path, features=matrix)
        return np.asarray(matrix)
    sep = "," if suffix == ".csv" else " "
    write_text(path, [dense_line(row, sep) for row in matrix], dirty=dirty)
    return np.array([[float(f"{v:.6g}") for v in row] for row in matrix])
