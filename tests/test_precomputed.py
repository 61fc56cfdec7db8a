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
from skmem._params import InvalidParameterError
from skmem.features.store import FeatureConfigError, FeatureStore, read_config
from skmem.features.descriptors import DescriptorFormatError
from skmem.features.precomputed import ParsedFileCache, feature_index, read_id_list

from _mediaeval_files import write_feature_matrix, write_mediaeval_features, write_text

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
    assert not np.array_equal(X[0], loader.transform(["video2"])[0])


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


def test_cached_file_is_parsed_again_after_a_rewrite_of_same_size_and_mtime(tmp_path):
    path = write_text(tmp_path / "C3D" / "video1.txt", ["1 2 3"])
    loader = PrecomputedFeatureLoader("C3D", tmp_path, cache_size=1).fit(["video1"])
    np.testing.assert_array_equal(loader.transform(["video1"]), [[1, 2, 3]])
    assert loader.cache_info().hits == 1  # the transform was served by the cache
    stat = os.stat(path)
    write_text(path, ["4 5 6"])
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.stat(path).st_size == stat.st_size and os.stat(path).st_mtime_ns == stat.st_mtime_ns
    np.testing.assert_array_equal(loader.transform(["video1"]), [[4, 5, 6]])
    write_text(path, ["7 8 9"])
    stamp = time.time() + 5
    os.utime(path, (stamp, stamp))
    np.testing.assert_array_equal(loader.transform(["video1"]), [[7, 8, 9]])


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


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=200), name=st.sampled_from(["m.csv", "m.txt", "m.npy", "m.npz"]))
def test_random_matrix_bytes_parse_or_raise_the_loaders_error(data, name):
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, name).write_bytes(data)
        write_text(Path(folder, "ids.txt"), ["video1"])
        loader = PrecomputedFeatureLoader("matrix", Path(folder, name), ids_file=Path(folder, "ids.txt"))
        try:
            X = loader.fit_transform(["video1"])
        except DescriptorFormatError as exc:
            assert name in str(exc)
        else:
            assert X.shape == (1, loader.dim_) and np.all(np.isfinite(X))


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
def test_npy_plain_folder_skips_hidden_and_temporary_files(tmp_path):
    rng = np.random.default_rng(1)
    plain = rng.random((8, 16)).astype(np.float32)
    other = rng.random((8, 16)).astype(np.float32)
    np.save(tmp_path / "video1.npy", plain)
    np.save(tmp_path / "clip2.npy", other)
    np.save(tmp_path / ".tmp-host@1@abcdef.npy", other)  # a killed writer's leftover
    (tmp_path / "notes.txt").write_text("not features")
    assert set(feature_index(tmp_path)) == {"video1", "clip2"}
    loader = PrecomputedFeatureLoader("npy", tmp_path).fit(["video1", "clip2"])
    assert loader.feature_config_ is None
    X = loader.transform([1, "/videos/clip2.mp4", "video1.webm"])
    np.testing.assert_allclose(X, [plain.mean(0), other.mean(0), plain.mean(0)], rtol=1e-6)
    S = PrecomputedFeatureLoader("npy", tmp_path, aggregate="stack").fit_transform(["video1", "clip2"])
    assert S.shape == (2, 8, 16)
    np.testing.assert_array_equal(S[1], other)
    with pytest.raises(FileNotFoundError, match=r"\.tmp-host@1@abcdef\.npy' does not exist"):
        loader.transform([".tmp-host@1@abcdef.npy"])


def test_npy_spatial_maps_average_time_and_locations(tmp_path):
    maps = np.random.default_rng(2).random((3, 49, 8)).astype(np.float32)
    np.save(tmp_path / "a.npy", maps)
    loader = PrecomputedFeatureLoader("npy", tmp_path)
    np.testing.assert_allclose(loader.fit_transform(["a"])[0], maps.mean(axis=(0, 1)), rtol=1e-5)
    stacked = PrecomputedFeatureLoader("npy", tmp_path, aggregate="stack").fit_transform(["a"])
    assert stacked.shape == (1, 3, 49, 8)
    np.testing.assert_array_equal(stacked[0], maps)


RESNET18 = {"backbone": "resnet18", "layer": None, "sampler": {"n_frames": 4}}
RESNET34 = {"backbone": "resnet34", "layer": None, "sampler": {"n_frames": 2}}


def _feature_cache(folder, config, features):
    """A real feature store of ``{clip file name: array}``, as CNNFeaturizer writes it."""
    clips = folder / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    with FeatureStore(folder / "features", config) as store:
        for name, array in features.items():
            (clips / name).write_bytes(name.encode())
            store.save(clips / name, {"pooled": array, "logits": array[:, :2]})
    return folder / "features"


def test_npy_store_lists_clips_by_id_and_records_its_configuration(tmp_path):
    rng = np.random.default_rng(4)
    arrays = {"video10.webm": rng.random((4, 8)).astype(np.float32),
              "video11.webm": rng.random((4, 8)).astype(np.float32)}
    root = _feature_cache(tmp_path, RESNET18, arrays)
    np.save(root / "video12.npy", arrays["video11.webm"])  # a stray file is never an entry
    assert sorted(feature_index(root)) == ["video10", "video11"]
    loader = PrecomputedFeatureLoader("npy", root, aggregate="stack")
    X = loader.fit_transform(["video10.webm", "video11", 10, tmp_path / "clips" / "video11.webm"])
    np.testing.assert_array_equal(X, [arrays["video10.webm"], arrays["video11.webm"],
                                      arrays["video10.webm"], arrays["video11.webm"]])
    assert loader.feature_config_ == {**read_config(root), "extra_outputs": []}  # the layer output is read
    assert loader.feature_config_["backbone"] == "resnet18"
    with pytest.raises(FileNotFoundError, match="has no entry"):
        loader.transform(["video12.webm"])


def test_npy_transform_refuses_features_of_another_configuration(tmp_path):
    rng = np.random.default_rng(5)
    same = {"video1.webm": rng.random((4, 8)).astype(np.float32)}
    a = _feature_cache(tmp_path / "a", RESNET18, {"video1.webm": rng.random((4, 8)).astype(np.float32)})
    b = _feature_cache(tmp_path / "b", RESNET34, {"video1.webm": rng.random((4, 8)).astype(np.float32)})
    c = _feature_cache(tmp_path / "c", RESNET18, same)
    loader = PrecomputedFeatureLoader("npy", a).fit(["video1"])
    with pytest.raises(FeatureConfigError) as info:
        loader.set_params(root=b).transform(["video1"])
    message = str(info.value)
    assert "resnet18" in message and "resnet34" in message and str(a) in message and str(b) in message
    assert "backbone ('resnet18' vs 'resnet34')" in message and "sampler.n_frames (4 vs 2)" in message
    X = loader.set_params(root=c).transform(["video1"])  # same configuration: read from the new folder
    np.testing.assert_allclose(X[0], same["video1.webm"].mean(0), rtol=1e-6)
    plain = tmp_path / "plain"
    plain.mkdir()
    np.save(plain / "video1.npy", same["video1.webm"])
    with pytest.warns(UserWarning, match="records no feature configuration"):
        loader.set_params(root=plain).transform(["video1"])


def test_npy_folder_of_the_old_format_is_refused_saying_how_to_migrate(tmp_path):
    np.save(tmp_path / "clip2.webm__0123456789abcdef.npy", np.zeros((2, 4), np.float32))
    with pytest.raises(FeatureConfigError, match="format 2.*into a new folder"):
        PrecomputedFeatureLoader("npy", tmp_path).fit(["clip2.webm"])
    with pytest.raises(FeatureConfigError, match=str(tmp_path)):
        feature_index(tmp_path)


def test_npy_cache_clips_sharing_a_stem_are_asked_for_by_file_name(tmp_path):
    arrays = {"a.mp4": np.ones((2, 4), np.float32), "a.webm": np.zeros((2, 4), np.float32)}
    root = _feature_cache(tmp_path, RESNET18, arrays)
    loader = PrecomputedFeatureLoader("npy", root).fit(["a.mp4", "a.webm"])
    np.testing.assert_array_equal(loader.transform(["a.webm", "a.mp4"])[:, 0], [0, 1])
    with pytest.raises(ValueError, match=r"X row 1: 'a' names 2 clips .*a\.mp4, .*a\.webm"):
        loader.transform(["a.mp4", "a"])


# ------------------------------------------------------------------- matrix
MATRIX_IDS = ["video3.webm", "video1.webm", "video7.webm", "video2.webm"]


@pytest.mark.parametrize("name", ["features.npy", "features.npz", "features.csv", "features.txt"])
def test_matrix_rows_are_matched_by_id(tmp_path, name):
    matrix = np.random.default_rng(6).random((4, 5))
    written = write_feature_matrix(tmp_path / name, matrix)
    write_text(tmp_path / "ids.txt", MATRIX_IDS)  # BOM, CRLF, no final newline
    loader = PrecomputedFeatureLoader("matrix", tmp_path / name, ids_file=tmp_path / "ids.txt")
    X = loader.fit_transform(["video1", 2, "/clips/video3.webm", "video7.webm"])
    np.testing.assert_allclose(X, written[[1, 3, 0, 2]], rtol=1e-6)
    assert loader.dim_ == 5 and loader.frame_shape_ == (1, 5)
    stacked = PrecomputedFeatureLoader("matrix", tmp_path / name, ids_file=tmp_path / "ids.txt",
                                       aggregate="stack").fit_transform(["video2"])
    assert stacked.shape == (1, 1, 5)
    np.testing.assert_allclose(stacked[0, 0], written[3], rtol=1e-6)


def test_matrix_ids_from_a_csv_column_and_frames_averaged(tmp_path):
    matrix = np.random.default_rng(8).random((3, 2, 4)).astype(np.float32)
    np.save(tmp_path / "features.npy", matrix)
    write_text(tmp_path / "ground-truth.csv", [
        "video,short-term_memorability,nb_short-term_annotations",
        "video10.webm,0.950,34", "video11.webm,0.800,30", "video12.webm,0.700,31"])
    loader = PrecomputedFeatureLoader("matrix", tmp_path / "features.npy",
                                      ids_file=tmp_path / "ground-truth.csv", id_column="video")
    np.testing.assert_allclose(loader.fit_transform(["video12", "video10"]), matrix[[2, 0]].mean(axis=1), rtol=1e-6)
    stacked = loader.set_params(aggregate="stack").fit_transform(["video11"])
    np.testing.assert_array_equal(stacked[0], matrix[1])


def test_matrix_missing_ids_follow_on_missing(tmp_path):
    np.save(tmp_path / "m.npy", np.arange(6, dtype=np.float32).reshape(2, 3))
    write_text(tmp_path / "ids.txt", ["video1", "video2"])
    args = dict(kind="matrix", root=tmp_path / "m.npy", ids_file=tmp_path / "ids.txt")
    with pytest.raises(FileNotFoundError, match=r"'video9' \(row 1\): it is not listed in .*ids\.txt"):
        PrecomputedFeatureLoader(**args).fit(["video1", "video9"])
    loader = PrecomputedFeatureLoader(**args, on_missing="nan")
    with pytest.warns(UserWarning, match="1 clip"):
        X = loader.fit_transform(["video2", "video9"])
    np.testing.assert_array_equal(X[0], [3, 4, 5])
    assert np.isnan(X[1]).all() and loader.missing_ == ["video9"]


BAD_MATRICES = [
    # (matrix file, its content, ids, id_column, error type, message)
    ("m.csv", ["1,2", "3,4", "5,6"], ["a", "b"], None, DescriptorFormatError,
     r"m\.csv: has 3 rows, but .*ids\.txt lists 2 ids"),
    ("m.csv", ["1,2", "3,4"], ["a", "a.webm"], None, DescriptorFormatError,
     r"ids\.txt, line 2: id 'a\.webm' repeats 'a' of line 1"),
    ("m.csv", ["1,2", "3,4"], ["video10", "10"], None, DescriptorFormatError, r"ids\.txt, line 2: id '10' repeats"),
    ("m.csv", ["1,2", "3,x"], ["a", "b"], None, DescriptorFormatError, r"m\.csv, line 2: non-numeric token 'x'"),
    ("m.txt", ["1 2", "3 4 5"], ["a", "b"], None, DescriptorFormatError,
     r"m\.txt, line 2: has 3 values, expected 2 \(as on line 1\)"),
    ("m.csv", ["1,2", "3,inf"], ["a", "b"], None, DescriptorFormatError, r"m\.csv, line 2: non-finite value"),
    ("m.csv", ["1,2", "3,4"], ["id", "a", "b"], "video", DescriptorFormatError,
     r"ids\.txt: has no column 'video' \(columns: 'id'\)"),
    ("m.csv", ["1,2", "3,4"], ["id,score", "a,0.5", " ,0.7"], "id", DescriptorFormatError,
     r"ids\.txt, line 3: empty id in column 'id'"),
]


@pytest.mark.parametrize("name, rows, ids, column, error, message", BAD_MATRICES)
def test_bad_matrix_or_id_list_names_the_file(tmp_path, name, rows, ids, column, error, message):
    write_text(tmp_path / name, rows)
    write_text(tmp_path / "ids.txt", ids)
    loader = PrecomputedFeatureLoader("matrix", tmp_path / name, ids_file=tmp_path / "ids.txt", id_column=column)
    with pytest.raises(error, match=message):
        loader.fit(["a"])


def test_bad_matrix_archives_and_missing_files(tmp_path):
    write_text(tmp_path / "ids.txt", ["a", "b"])
    np.savez(tmp_path / "two.npz", x=np.zeros((2, 3)), ids=np.zeros(2))
    with pytest.raises(DescriptorFormatError, match=r"two\.npz: holds 2 arrays \(x, ids\); expected one"):
        PrecomputedFeatureLoader("matrix", tmp_path / "two.npz", ids_file=tmp_path / "ids.txt").fit(["a"])
    np.save(tmp_path / "flat.npy", np.zeros(2))
    with pytest.raises(DescriptorFormatError, match=r"flat\.npy: has shape \(2,\); expected \(n_clips, D\)"):
        PrecomputedFeatureLoader("matrix", tmp_path / "flat.npy", ids_file=tmp_path / "ids.txt").fit(["a"])
    np.save(tmp_path / "m.npy", np.zeros((2, 3)))
    with pytest.raises(InvalidParameterError, match="'ids_file' parameter"):
        PrecomputedFeatureLoader("matrix", tmp_path / "m.npy").fit(["a"])
    with pytest.raises(FileNotFoundError, match=r"ids_file .*nowhere\.txt"):
        PrecomputedFeatureLoader("matrix", tmp_path / "m.npy", ids_file=tmp_path / "nowhere.txt").fit(["a"])
    with pytest.raises(FileNotFoundError, match="is not a file"):
        PrecomputedFeatureLoader("matrix", tmp_path, ids_file=tmp_path / "ids.txt").fit(["a"])


def test_matrix_replaced_by_another_width_fails_at_transform(tmp_path):
    write_text(tmp_path / "ids.txt", ["a", "b"])
    np.save(tmp_path / "m.npy", np.zeros((2, 3), np.float32))
    loader = PrecomputedFeatureLoader("matrix", tmp_path / "m.npy", ids_file=tmp_path / "ids.txt").fit(["a"])
    np.save(tmp_path / "m.npy", np.zeros((2, 4), np.float32))
    with pytest.raises(DescriptorFormatError, match=r"m\.npy: has 4 features, expected 3"):
        loader.transform(["b"])


def test_read_id_list_keeps_row_order(tmp_path):
    write_text(tmp_path / "ids.txt", ["video3.webm", "", "video1.webm"])
    assert read_id_list(tmp_path / "ids.txt") == ["video3.webm", "video1.webm"]


# -------------------------------------------------------------------- cache
def test_cache_is_off_unless_asked_for_and_fit_transform_parses_once(features):
    root, _ = features
    assert PrecomputedFeatureLoader("LBP", root).fit(IDS).cache_info() is None
    n_files = 3 * N_CLIPS
    once = PrecomputedFeatureLoader("LBP", root, cache_size=8)
    X = once.fit_transform(IDS)
    assert once.cache_info()[:3] == (0, n_files, n_files)  # hits, misses, files held
    twice = PrecomputedFeatureLoader("LBP", root, cache_size=8)
    np.testing.assert_array_equal(twice.fit(IDS).transform(IDS), X)
    assert twice.cache_info()[:3] == (n_files, n_files, n_files)  # transform re-read what fit parsed


def test_cache_is_bounded_and_belongs_to_one_loader(features):
    root, _ = features
    small = PrecomputedFeatureLoader("HMP", root, cache_size=0.0001)  # about 100 bytes: fewer than one file
    small.fit_transform(IDS)
    info = small.cache_info()
    assert info.max_bytes == 104 and info.nbytes <= info.max_bytes and info.files == 0
    loader = PrecomputedFeatureLoader("C3D", root, cache_size=8).fit(IDS)
    assert loader.cache_info().files == N_CLIPS
    assert clone(loader).cache_info() == (0, 0, 0, 0, 8 * 2**20)
    state = pickle.dumps(loader)
    loader.transform(IDS)
    assert pickle.dumps(loader) == state  # the parsed files are not pickled
    assert pickle.loads(state).cache_info().files == 0
    assert loader.cache_info().files == N_CLIPS  # pickling leaves the loader's own cache alone


def test_parsed_file_cache_drops_the_least_recently_used(tmp_path):
    cache = ParsedFileCache(max_bytes=100)
    a, b, c = (np.zeros(10, np.float32) for _ in range(3))  # 40 bytes each
    cache.put("a", a)
    cache.put("b", b)
    assert cache.get("a") is a  # a is now the most recently used
    cache.put("c", c)
    assert cache.get("b") is None and cache.get("a") is a and cache.get("c") is c
    cache.put("big", np.zeros(30, np.float32))  # 120 bytes: never kept
    assert cache.get("big") is None and cache.info().nbytes == 80


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
        ({"keyframes": (0, -56)}, "keyframes"),
        ({"cache_size": -1}, "cache_size"),
        ({"ids_file": 3}, "ids_file"),
        ({"id_column": 0}, "id_column"),
        ({"n_jobs": "all"}, "n_jobs"),
    ],
)
def test_bad_parameters_are_named(features, params, name):
    root, _ = features
    args = {"kind": "LBP", "root": root, **params}
    loader = PrecomputedFeatureLoader(**args)  # __init__ only stores
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of PrecomputedFeatureLoader"):
        loader.fit(IDS)


def test_unknown_parameter_fails_at_set_params(features):
    root, _ = features
    with pytest.raises(ValueError, match="on_mising"):
        PrecomputedFeatureLoader("C3D", root).set_params(on_mising="nan")


def test_refit_as_another_kind_keeps_no_attribute_of_the_old_one(features):
    root, _ = features
    loader = PrecomputedFeatureLoader("ColorHistogram", root).fit(IDS)
    assert loader.n_channels_ == 3 and loader.n_features_out_ == 3 * 256
    loader.set_params(kind="C3D").fit(IDS)
    assert not hasattr(loader, "n_channels_")
    assert loader.n_features_out_ == 101 and loader.transform(IDS).shape == (N_CLIPS, 101)


def test_fitted_loader_reads_another_root_after_set_params(features, tmp_path):
    root, truth = features
    loader = PrecomputedFeatureLoader("C3D", root).fit(IDS)
    other = np.random.default_rng(7).random(101)
    write_text(tmp_path / "C3D" / "video1.txt", [" ".join(f"{v:.6g}" for v in other)])
    X = loader.set_params(root=tmp_path).transform(["video1"])
    np.testing.assert_allclose(X[0], other, rtol=1e-5)
    assert loader.root_ == root / "C3D"  # the folder read at fit


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
    expected = rng.random((70, 101))
    for name, values in zip(ids, expected):
        write_text(tmp_path / "C3D" / f"{name}.txt", [" ".join(f"{v:.5f}" for v in values)])
    with parallel_config(backend="threading"):  # the same code path, without process start-up
        parallel = PrecomputedFeatureLoader("C3D", tmp_path, n_jobs=2).fit_transform(ids[::-1])
    sequential = PrecomputedFeatureLoader("C3D", tmp_path).fit_transform(ids[::-1])
    np.testing.assert_array_equal(parallel, sequential)
    np.testing.assert_allclose(parallel, np.round(expected[::-1], 5), rtol=1e-6)


def test_errors_survive_pickling():
    err = DescriptorFormatError("/x/video1.txt", "bad token", 3)
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.line == 3
