"""Saving and loading model bundles: provenance, atomic writes, refusing foreign files."""

import os

import joblib
import numpy as np
import pytest
from sklearn.linear_model import Ridge

from skmem.features.store import FeatureConfigError
from skmem.persistence import ModelBundle, ModelFileError, atomic_path, check_writable, load_model, save_model

CONFIG = {"backbone": "resnet18", "weights": "random:0", "layer": None, "sampler": {"n_frames": 2, "size": 224}}


@pytest.fixture
def fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    return Ridge().fit(X, X @ [1.0, -2.0, 0.5]), X


def test_a_saved_model_keeps_its_feature_configuration(fitted, tmp_path):
    model, X = fitted
    save_model(tmp_path / "m.joblib", model, feature_config=CONFIG, target="short")
    bundle = load_model(tmp_path / "m.joblib")
    np.testing.assert_array_equal(bundle.model.predict(X), model.predict(X))
    assert bundle.feature_config == CONFIG and bundle.metadata == {"target": "short"}
    bundle.check_features(dict(CONFIG))  # the same configuration passes


def test_features_of_another_configuration_are_refused_naming_both(fitted, tmp_path):
    bundle = ModelBundle(fitted[0], CONFIG)
    other = {**CONFIG, "backbone": "resnet34", "sampler": {"n_frames": 4, "size": 224}}
    with pytest.raises(FeatureConfigError, match=r"backbone \('resnet18' vs 'resnet34'\), sampler.n_frames \(2 vs 4\)") as info:
        bundle.check_features(other, source="the features in /data/f")
    assert "/data/f" in str(info.value)
    with pytest.warns(UserWarning, match="records no feature configuration"):
        bundle.check_features(None)


def test_an_interrupted_save_keeps_the_previous_file(fitted, tmp_path):
    model, X = fitted
    path = tmp_path / "m.joblib"
    save_model(path, model)
    before = path.read_bytes()
    unpicklable = Ridge()
    unpicklable.hook = lambda: None  # pickling fails half-way through the dump
    with pytest.raises(Exception):
        save_model(path, unpicklable)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.joblib"]  # no temporary file left


@pytest.mark.parametrize("content", [b"not a pickle", None, "a string"])
def test_a_file_that_is_not_a_bundle_is_refused(tmp_path, content):
    path = tmp_path / "x.joblib"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        joblib.dump(content, path)
    with pytest.raises(ModelFileError, match=f"^{path}: (no such model file|not a model saved by skmem)"):
        load_model(path)


def test_files_follow_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        with atomic_path(tmp_path / "out.txt") as temporary:
            with open(temporary, "w") as fh:
                fh.write("done")
    finally:
        os.umask(previous)
    assert (tmp_path / "out.txt").read_text() == "done"
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o640


def test_check_writable_names_the_bad_location(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(IsADirectoryError, match=f"out {tmp_path} is a folder"):
        check_writable(tmp_path, what="out")
    with pytest.raises(NotADirectoryError, match="not an existing folder"):
        check_writable(tmp_path / "file" / "m.joblib")
    with pytest.raises(NotADirectoryError, match="not an existing folder"):
        check_writable(tmp_path / "missing" / "m.joblib")
    check_writable(tmp_path / "m.joblib")
    assert sorted(os.listdir(tmp_path)) == ["file"]  # the probe is gone


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the not-a-folder cases cover the check")
def test_check_writable_refuses_a_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    with pytest.raises(PermissionError, match="cannot write"):
        check_writable(folder / "m.joblib")
