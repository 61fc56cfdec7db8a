import os
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from joblib import parallel_config
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skmem import PrecomputedFeatureLoader
from skmem.features.descriptors import DescriptorFormatError
from skmem.features.precomputed import _CACHE

from _mediaeval_files import write_mediaeval_features, write_text

N_CLIPS = 4
IDS = [f"video{n}" for n in range(1, N_CLIPS + 1)]


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    root = tmp_path_factory.mktemp("features")
    truth = write_mediaeval_features(root, N_CLIPS, rng=np.random.default_rng(0))
    return root, truth


def _expected(truth, kind):
    return np.stack([np.mean(truth[kind][name], axis=0) if isinstance(truth[kind][name], list)
                     else truth[kind][name] for name in IDS])


# ---------------------------------------------------------------- reading back
@pytest.mark.parametrize("kind", ["C3D", "HMP", "LBP", "InceptionV3", "ColorHistogram", "ORB"])
def test_reads_back_what_was_written(features, kind):
    root, truth = features
    X = PrecomputedFeatureLoader(kind, root).fit_transform(IDS)
    assert X.dtype == np.float32
    np.testing.assert_allclose(X, _expected(truth, kind), rtol=1e-5, atol=1e-6)


def test_c3d_rows_are_softmax_outputs(features):
    root, _ = features
    X = PrecomputedFeatureLoader("C3D", root).fit_transform(IDS)
    assert X.shape == (N_CLIPS, 101)
    np.testing.assert_allclose(X.sum(axis=1), 1.0, atol=1e-4)


def test_hmp_is_6075_dimensional_and_one_based(features, tmp_path):
    root, truth = features
    loader = PrecomputedFeatureLoader("HMP", root).fit(IDS)
    assert loader.dim_ == 6075 and loader.n_features_out_ == 6075
    X = loader.transform(IDS)
    assert X.shape == (N_CLIPS, 6075)
    assert np.all(X[:, 6074] == 0.5)  # written as bin 6075
    write_text(tmp_path / "HMP" / "video1.txt", ["1:0.25 3:0.5"])
    x = PrecomputedFeatureLoader("HMP", tmp_path).fit_transform(["video1"])[0]
    assert x[0] == 0.25 and x[2] == 0.5 and np.count_nonzero(x) == 2


def test_aesthetics_comma_separated(features):
    root, truth = features
    loader = PrecomputedFeatureLoader("aesthetics", root / "aesthetic_feat_dev-set_mean")
    X = loader.fit_transform(IDS)
    assert X.shape == (N_CLIPS, 109)
    np.testing.assert_allclose(X, _expected(truth, "aesthetics"), rtol=1e-5)


def test_stack_keeps_keyframe_order(features):
    root, truth = features
    S = PrecomputedFeatureLoader("LBP", root, aggregate="stack").fit_transform(IDS)
    assert S.shape == (N_CLIPS, 3, 122)
    for i, name in enumerate(IDS):
        for j in range(3):  # frames 0, 56, 112
            np.testing.assert_allclose(S[i, j], truth["LBP"][name][j], rtol=1e-5)
    R = PrecomputedFeatureLoader("LBP", root, keyframes=(112, 0), aggregate="stack").fit_transform(IDS)
    np.testing.assert_array_equal(R[:, 0], S[:, 2])
    np.testing.assert_array_equal(R[:, 1], S[:, 0])
    one = PrecomputedFeatureLoader("C3D", root, aggregate="stack").fit_transform(IDS)
    assert one.shape == (N_CLIPS, 1, 101)


def test_id_forms_resolve_to_the_same_clip(features):
    root, _ = features
    loader = PrecomputedFeatureLoader("C3D", root).fit(IDS)
    forms = ["video3", "video3.webm", 3, "3", np.int64(3), 3.0, "/data/dev-set/sources/video3.webm"]
    X = loader.transform(forms)
    assert np.all(X == X[0])
    np.testing.assert_array_equal(X[0], loader.transform(["video3"])[0])


def test_root_may_be_the_kind_folder_or_its_parent(features):
    root, _ = features
    a = PrecomputedFeatureLoader("HMP", root).fit_transform(IDS)
    b = PrecomputedFeatureLoader("HMP", root / "HMP").fit_transform(IDS)
    np.testing.assert_array_equal(a, b)


def test_dataframe_column_of_ids(features):
    import pandas as pd

    root, _ = features
    frame = pd.DataFrame({"video": [f"{n}.webm" for n in IDS]})
    loader = PrecomputedFeatureLoader("C3D", root)
    np.testing.assert_array_equal(loader.fit_transform(frame[["video"]]), loader.transform(frame["video"]))
    with pytest.raises(ValueError, match="one column"):
        loader.transform(pd.DataFrame({"a": IDS, "b": IDS}))


# ------------------------------------------------------------------------ HOG
def test_hog_resample_policy(features):
    root, truth = features
    loader = PrecomputedFeatureLoader("HOG", root, aggregate="stack").fit(IDS)
    assert loader.dim_ == 45  # the longest vector seen at fit
    S = loader.transform(IDS)
    for i, name in enumerate(IDS):
        for j, written in enumerate(truth["HOG"][name]):
            if written.size == 45:  # full-length vectors are unchanged
                np.testing.assert_allclose(S[i, j], written, rtol=1e-5)
            else:  # end points are kept by linear resampling
                assert S[i, j, 0] == pytest.approx(written[0], rel=1e-5)
                assert S[i, j, -1] == pytest.approx(written[-1], rel=1e-5)


def test_hog_pad_and_histogram_policies(features):
    root, truth = features
    pad = PrecomputedFeatureLoader("HOG", root, ragged="pad", dim=40, aggregate="stack").fit_transform(IDS)
    short = next((i, j) for i, n in enumerate(IDS) for j, v in enumerate(truth["HOG"][n]) if v.size == 30)
    written = truth["HOG"][IDS[short[0]]][short[1]]
    np.testing.assert_allclose(pad[short][:30], written, rtol=1e-5)
    assert np.all(pad[short][30:] == 0)
    hist = PrecomputedFeatureLoader("HOG", root, ragged="histogram", aggregate="stack").fit(IDS)
    assert hist.dim_ == 32
    np.testing.assert_allclose(hist.transform(IDS).sum(axis=-1), 1.0, atol=1e-5)


# ---------------------------------------------------------------- bad files
BAD_FILES = [
    ("C3D", "video1.txt", b"", "empty"),
    ("C3D", "video1.txt", b"\xef\xbb\xbf\r\n \r\n", "empty"),
    ("C3D", "video1.txt", b"0.5 abc 0.5", "line 1: non-numeric token 'abc'"),
    ("C3D", "video1.txt", b"0.5 nan 0.5", "non-finite"),
    ("C3D", "video1.txt", b"\xff\xfe0.5", "not UTF-8"),
    ("HMP", "video1.txt", b"1:0.5 6076:0.1", "line 1: index 6076 is out of range [1, 6075]"),
    ("HMP", "video1.txt", b"0:0.5 2:0.1", "index 0 is out of range"),
    ("HMP", "video1.txt", b"1:0.5 2", "expected an index:value pair, got '2'"),
    ("HMP", "video1.txt", b"1:0.5 2:0.1:3", "expected an index:value pair"),
    ("HMP", "video1.txt", b"1.5:0.5", "not an integer"),
    ("HMP", "video1.txt", b"3:0.5 3:0.1", "index 3 appears twice"),
    ("HMP", "video1.txt", b"\n\n1:x", "line 3: non-numeric token 'x'"),
    ("InceptionV3", "video1-0.txt", b"1000:0.2", "index 1000 is out of range [0, 999]"),
]


@pytest.mark.parametrize("kind, name, content, message", BAD_FILES)
def test_malformed_file_names_file_and_line(tmp_path, kind, name, content, message):
    folder = tmp_path / kind
    folder.mkdir()
    (folder / name).write_bytes(content)
    if kind == "InceptionV3":
        for k in (56, 112):
            write_text(folder / f"video1-{k}.txt", ["0:1.0"])
    with pytest.raises(DescriptorFormatError, match="video1") as info:
        PrecomputedFeatureLoader(kind, tmp_path).fit(["video1"])
    assert message in str(info.value)
    assert info.value.path.endswith(name)


def test_wrong_length_for_fixed_length_kind(tmp_path):
    write_text(tmp_path / "C3D" / "video1.txt", [" ".join(["0.01"] * 101)])
    write_text(tmp_path / "C3D" / "video2.txt", [" ".join(["0.01"] * 100)])
    with pytest.raises(DescriptorFormatError, match=r"video2\.txt, line 1: has 100 values, expected 101"):
        PrecomputedFeatureLoader("C3D", tmp_path).fit(["video1", "video2"])
    loader = PrecomputedFeatureLoader("C3D", tmp_path).fit(["video1"])
    with pytest.raises(DescriptorFormatError, match="video2"):
        loader.transform(["video2"])
    with pytest.raises(DescriptorFormatError, match="video1.txt, line 1: has 101 values, expected 99"):
        PrecomputedFeatureLoader("C3D", tmp_path, dim=99).fit(["video1"])


def test_colorhistogram_line_count_and_orb_row_width(tmp_path):
    write_text(tmp_path / "ColorHistogram" / "video1-0.txt", ["0:1 3:2", "1:1", "2:5"])
    write_text(tmp_path / "ColorHistogram" / "video2-0.txt", ["0:1", "1:1"])
    loader = PrecomputedFeatureLoader("ColorHistogram", tmp_path, keyframes=(0,))
    with pytest.raises(DescriptorFormatError, match="video2-0.txt: has 2 histogram lines, expected 3"):
        loader.fit(["video1", "video2"])
    X = loader.fit_transform(["video1"])
    assert loader.dim_ == 4 and loader.n_channels_ == 3
    np.testing.assert_array_equal(X[0], [1, 0, 0, 2, 0, 1, 0, 0, 0, 0, 5, 0])
    write_text(tmp_path / "ORB" / "video1-0.txt", ["1 2 3", "4 5"])
    with pytest.raises(DescriptorFormatError, match="video1-0.txt, line 2: has 2 values, expected 3"):
        PrecomputedFeatureLoader("ORB", tmp_path, keyframes=(0,)).fit(["video1"])


def test_edited_file_is_parsed_again(tmp_path):
    path = write_text(tmp_path / "C3D" / "video1.txt", ["1 2 3"])
    loader = PrecomputedFeatureLoader("C3D", tmp_path).fit(["video1"])
    np.testing.assert_array_equal(loader.transform(["video1"]), [[1, 2, 3]])
    write_text(path, ["4 5 6"])
    stamp = time.time() + 5
    os.utime(path, (stamp, stamp))
    np.testing.assert_array_equal(loader.transform(["video1"]), [[4, 5, 6]])


_FORMAT_CASES = [("HMP", "video1.txt"), ("C3D", "video1.txt"), ("aesthetics", "video1.txt"),
                 ("ColorHistogram", "video1-0.txt"), ("ORB", "video1-0.txt"), ("npy", "video1.npy")]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=200), case=st.sampled_from(_FORMAT_CASES))
def test_random_bytes_parse_or_raise_the_loaders_error(data, case):
    kind, name = case
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, name).write_bytes(data)
        loader = PrecomputedFeatureLoader(kind, folder, keyframes=(0,))
        try:
            X = loader.fit_transform(["video1"])
        except DescriptorFormatError as exc:
            assert name in str(exc)
        else:
            assert X.shape[0] == 1 and np.all(np.isfinite(X))


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=30, unique=True),
       data=st.data())
def test_sparse_lines_roundtrip(values, data):
    dim = 64
    keys = data.draw(st.lists(st.integers(1, dim), min_size=len(values), max_size=len(values), unique=True))
    expected = np.zeros(dim, dtype=np.float32)
    expected[np.array(keys) - 1] = values
    with tempfile.TemporaryDirectory() as folder:
        write_text(Path(folder, "video1.txt"), [" ".join(f"{k}:{v!r}" for k, v in zip(keys, values))])
        x = PrecomputedFeatureLoader("HMP", folder, dim=dim).fit_transform(["video1"])[0]
    np.testing.assert_array_equal(x, expected)


# ------------------------------------------------------------------ missing
def test_missing_file_raises_with_its_path(features):
    root, _ = features
    with pytest.raises(FileNotFoundError, match=r"video99\.txt") as info:
        PrecomputedFeatureLoader("C3D", root).fit(IDS + ["video99"])
    assert "row 4" in str(info.value)


@pytest.mark.parametrize("fill", ["zeros", "nan"])
def test_missing_files_filled_with_warning(features, tmp_path, fill):
    root, _ = features
    loader = PrecomputedFeatureLoader("LBP", root, on_missing=fill)
    with pytest.warns(UserWarning, match="1 clip"):
        X = loader.fit_transform(IDS + ["video99"])
    assert loader.missing_ == ["video99"]
    assert (np.isnan(X[-1]).all() if fill == "nan" else (X[-1] == 0).all())
    assert np.isfinite(X[:-1]).all()
    with pytest.warns(UserWarning, match="video77"):
        loader.transform(["video77"])
    assert loader.missing_ == ["video99"]  # transform does not change what fit recorded


def test_one_missing_keyframe_makes_the_clip_missing(tmp_path):
    for k in (0, 56):
        write_text(tmp_path / "LBP" / f"video1-{k}.txt", ["0.5 0.5"])
    with pytest.raises(FileNotFoundError, match=r"video1-112\.txt"):
        PrecomputedFeatureLoader("LBP", tmp_path).fit(["video1"])


# ---------------------------------------------------------------------- npy
def test_npy_plain_files_and_feature_cache(tmp_path):
    rng = np.random.default_rng(1)
    plain = rng.random((8, 16)).astype(np.float32)
    np.save(tmp_path / "video1.npy", plain)
    old = rng.random((8, 16)).astype(np.float32)
    new = rng.random((8, 16)).astype(np.float32)
    np.save(tmp_path / "clip2__0123456789abcdef.npy", old)
    np.save(tmp_path / "clip2__fedcba9876543210.npy", new)
    os.utime(tmp_path / "clip2__0123456789abcdef.npy", (1e9, 1e9))
    np.save(tmp_path / "clip20__aaaaaaaaaaaaaaaa.npy", old)  # must not be taken for clip2
    np.save(tmp_path / "video1__bbbbbbbbbbbbbbbb.npy", new)  # the plain file wins
    loader = PrecomputedFeatureLoader("npy", tmp_path).fit(["video1", "clip2"])
    X = loader.transform([1, "/videos/clip2.mp4"])
    np.testing.assert_allclose(X, [plain.mean(0), new.mean(0)], rtol=1e-6)
    S = PrecomputedFeatureLoader("npy", tmp_path, aggregate="stack").fit_transform(["video1", "clip2"])
    assert S.shape == (2, 8, 16)
    np.testing.assert_array_equal(S[1], new)


def test_npy_spatial_maps_average_time_and_locations(tmp_path):
    maps = np.random.default_rng(2).random((3, 49, 8)).astype(np.float32)
    np.save(tmp_path / "a__0000000000000000.npy", maps)
    loader = PrecomputedFeatureLoader("npy", tmp_path)
    np.testing.assert_allclose(loader.fit_transform(["a"])[0], maps.mean(axis=(0, 1)), rtol=1e-5)
    stacked = PrecomputedFeatureLoader("npy", tmp_path, aggregate="stack").fit_transform(["a"])
    assert stacked.shape == (1, 3, 49, 8)


def test_npy_bad_arrays_name_the_file(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((8, 16), np.float32))
    np.save(tmp_path / "b.npy", np.zeros((6, 16), np.float32))
    np.save(tmp_path / "c.npy", np.zeros((8, 12), np.float32))
    (tmp_path / "d.npy").write_bytes(b"\x93NUMPY garbage")
    stack = PrecomputedFeatureLoader("npy", tmp_path, aggregate="stack")
    with pytest.raises(DescriptorFormatError, match=r"b\.npy: has shape \(6, 16\), expected \(8, 16\)"):
        stack.fit(["a", "b"])
    mean = PrecomputedFeatureLoader("npy", tmp_path)
    assert mean.fit_transform(["a", "b"]).shape == (2, 16)
    with pytest.raises(DescriptorFormatError, match=r"c\.npy: has 12 features, expected 16"):
        mean.transform(["c"])
    with pytest.raises(DescriptorFormatError, match=r"d\.npy: is not a readable \.npy array"):
        mean.transform(["d"])


# ------------------------------------------------------------ sklearn contract
def test_estimator_contract(features):
    root, _ = features
    loader = PrecomputedFeatureLoader("InceptionV3", root, aggregate="stack")
    with pytest.raises(NotFittedError):
        loader.transform(IDS)
    assert clone(loader).get_params() == loader.get_params()
    X = loader.fit_transform(IDS)
    assert loader.n_features_in_ == 1
    assert loader.get_feature_names_out()[-1] == "inceptionv3999"
    again = pickle.loads(pickle.dumps(loader))
    np.testing.assert_array_equal(again.transform(IDS), X)
    np.testing.assert_array_equal(loader.fit(IDS).transform(IDS), X)  # refit is idempotent


@pytest.mark.parametrize(
    "params, name",
    [
        ({"kind": "SIFT"}, "kind"),
        ({"aggregate": "max"}, "aggregate"),
        ({"ragged": "crop"}, "ragged"),
        ({"on_missing": "skip"}, "on_missing"),
        ({"dim": 0}, "dim"),
        ({"keyframes": ()}, "keyframes"),
        ({"keyframes": (0, 0)}, "keyframes"),
        ({"keyframes": "0"}, "keyframes"),
    ],
)
def test_bad_parameters_are_named(features, params, name):
    root, _ = features
    args = {"kind": "LBP", "root": root, **params}
    with pytest.raises(ValueError, match=name):
        PrecomputedFeatureLoader(**args).fit(IDS)


def test_bad_root_and_ids_are_named(features, tmp_path):
    root, _ = features
    with pytest.raises(FileNotFoundError, match="root"):
        PrecomputedFeatureLoader("C3D", tmp_path / "nowhere").fit(IDS)
    with pytest.raises(TypeError, match="row 1"):
        PrecomputedFeatureLoader("C3D", root).fit(["video1", None])
    with pytest.raises(ValueError, match="empty"):
        PrecomputedFeatureLoader("C3D", root).fit([])


def test_parallel_parsing_matches_sequential(tmp_path):
    rng = np.random.default_rng(3)
    ids = [f"video{n}" for n in range(1, 71)]
    for name in ids:
        write_text(tmp_path / "C3D" / f"{name}.txt", [" ".join(f"{v:.5f}" for v in rng.random(101))])
    _CACHE.clear()
    with parallel_config(backend="threading"):  # the same code path, without process start-up
        parallel = PrecomputedFeatureLoader("C3D", tmp_path, n_jobs=2).fit_transform(ids)
    _CACHE.clear()
    sequential = PrecomputedFeatureLoader("C3D", tmp_path).fit_transform(ids)
    np.testing.assert_array_equal(parallel, sequential)


def test_errors_survive_pickling():
    err = DescriptorFormatError("/x/video1.txt", "bad token", 3)
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.line == 3
