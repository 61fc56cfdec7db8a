"""Saving and loading model bundles: provenance, atomic writes, refusing foreign files."""

import os
import sys
import warnings

import joblib
import numpy as np
import pytest
import skops.io
from _read_only import read_only_run
from sklearn.linear_model import Ridge

from skmem.features.store import FeatureConfigError
from skmem.persistence import ModelBundle, ModelFileError, atomic_path, check_writable, load_model, save_model
from skmem.pipelines import PRESETS

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


def test_an_interrupted_save_keeps_the_previous_file(fitted, tmp_path, monkeypatch):
    model, X = fitted
    path = tmp_path / "m.joblib"
    save_model(path, model)
    before = path.read_bytes()

    def interrupted_dump(obj, file):
        with open(file, "wb") as fh:
            fh.write(b"PK half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(skops.io, "dump", interrupted_dump)
    with pytest.raises(KeyboardInterrupt):
        save_model(path, model)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.joblib"]  # no temporary file left


@pytest.mark.parametrize("content", [b"not a pickle", None, "a string"])
def test_a_file_that_is_not_a_bundle_is_refused(tmp_path, content):
    path = tmp_path / "x.joblib"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        joblib.dump(content, path)
    with pytest.raises(ModelFileError, match=f"^{path}: (no such model file|not a model saved by skmem in the skops format)"):
        load_model(path)
    with pytest.raises(ModelFileError, match=f"^{path}: (no such model file|not a model saved by skmem)"):
        load_model(path, trusted=True)


def test_a_skops_file_that_is_not_a_bundle_is_refused(tmp_path):
    skops.io.dump({"model": "a string"}, tmp_path / "x.skops")
    with pytest.raises(ModelFileError, match="not a model saved by skmem \\(holds a dict\\)"):
        load_model(tmp_path / "x.skops")


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


def test_check_writable_refuses_a_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    probe = f"from skmem.persistence import check_writable; check_writable({str(folder / 'm.skops')!r})"
    result = read_only_run(folder, [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "PermissionError" in result.stderr and "cannot write" in result.stderr


class _Payload:
    """Pickles into a call that creates ``marker``: what a hostile model file does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_hostile_pickle_is_not_run_unless_trusted(tmp_path):
    path, marker = tmp_path / "model.joblib", tmp_path / "marker"
    joblib.dump(_Payload(marker), path)
    with pytest.raises(ModelFileError, match=r"a pickle can run code when loaded: load it with trusted=True"):
        load_model(path)
    assert not marker.exists()
    with pytest.raises(ModelFileError, match="not a model saved by skmem"):
        load_model(path, trusted=True)  # what the flag allows, and why it is not the default
    assert marker.exists()


def test_a_skops_file_naming_an_untrusted_function_is_refused(fitted, tmp_path):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    model, X = fitted
    hostile = make_pipeline(FunctionTransformer(os.system), model)
    with pytest.warns(UserWarning, match="names types skmem does not trust"):
        save_model(tmp_path / "m.skops", hostile)
    with pytest.raises(ModelFileError, match=r"m\.skops: names types skmem does not trust: (posix|os)\.system"):
        load_model(tmp_path / "m.skops")
    assert load_model(tmp_path / "m.skops", trusted=True).model.steps[0][1].func is os.system


@pytest.mark.parametrize("name", [*PRESETS, "lstm-spatial", "ridge-long_term"])
def test_every_preset_loads_without_trusting_the_file(name, tmp_path):
    import pandas as pd

    from skmem.pipelines import InputDescription, describe_input, make_model

    rng = np.random.default_rng(0)
    y = rng.uniform(size=12)
    X = rng.normal(size=(12, 2, 3, 4) if name in ("amnet", "lstm-spatial") else (12, 2, 4)).astype(np.float32)
    params = {}
    if name == "multimodal":
        X = pd.DataFrame(X.mean(axis=1), columns=[f"visual_{i}" for i in range(4)])
        X.insert(0, "caption", ["a dog runs", "a cat sits", "rain"] * 4)
        description = describe_input(X, text="caption", features={"visual": list(X.columns[1:])})
        model = make_model(name, description, embeddings=False)
    elif name.endswith("long_term"):
        model = make_model("ridge", InputDescription(rank=3, auxiliary="short_term"))
        params = {"auxiliary": rng.uniform(size=12)}
    else:
        model = make_model(name.split("-")[0], X.ndim, random_state=0, device="cpu")
        small = {"max_epochs": 1, "hidden_size": 8, "head_size": 8}
        model.set_params(**{k: small[k.rpartition("__")[2]] for k in model.get_params() if k.rpartition("__")[2] in small})
    model.fit(X, y, **params)
    before = dict(vars(model))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a type skmem does not trust would warn
        save_model(tmp_path / "m.skops", model)
    assert vars(model).keys() == before.keys() and all(vars(model)[k] is v for k, v in before.items())
    loaded = load_model(tmp_path / "m.skops").model
    np.testing.assert_allclose(loaded.predict(X), model.predict(X), rtol=1e-6)
    if hasattr(loaded, "history_"):
        assert len(loaded.history_) == 1


def test_skmem_estimator_and_network_classes_are_trusted_by_rule_and_nothing_else():
    from skmem.persistence import is_trusted

    for name in ["skmem.models.lstm.LSTMRegressor", "skmem.models.modules.AMNet", "skmem.models.targets.AuxiliaryTargetRegressor",
                 "skmem.features.pooling.TemporalPooling", "skmem.features.text.vectorizer.CaptionVectorizer",
                 "skmem.models._fitfree.SharedStep", "skmem.pipelines.signed_sqrt"]:
        assert is_trusted(name), name
    for name in ["os.system", "posix.system", "skmem.cli.main", "skmem.__main__.main", "skmem.models.fusion._learn_weights",
                 "skmem.models.lstm.np", "skmem.models.lstm.BaseEstimator", "skmem.models.nothing.Here",
                 "skmem.persistence.save_model", "skmem.features.store.FeatureStore"]:
        assert not is_trusted(name), name


def test_save_model_never_replaces_an_input(fitted, tmp_path):
    model, _ = fitted
    labels, features = tmp_path / "labels.csv", tmp_path / "features"
    labels.write_text("video,score\n")
    features.mkdir()
    (features / "video1.npy").write_bytes(b"entry")
    (tmp_path / "link.csv").symlink_to(labels)
    for path, reason in [(labels, "is"), (tmp_path / "link.csv", "is"), (features / "video1.npy", "lies in"), (features, "is")]:
        with pytest.raises(ValueError, match=f"model file {path} {reason} the input"):
            save_model(path, model, inputs=[labels, features])
    assert labels.read_text() == "video,score\n" and (features / "video1.npy").read_bytes() == b"entry"
    save_model(tmp_path / "m.skops", model, inputs=[labels, features])


def test_a_killed_save_leaves_no_temporary_for_long(fitted, tmp_path):
    import subprocess
    import sys

    code = (
        "import os, signal, sys\n"
        "from skmem.persistence import atomic_path\n"
        "with atomic_path(sys.argv[1]) as temporary:\n"
        "    open(temporary, 'wb').write(b'half')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    path = tmp_path / "m.skops"
    import skmem

    root = os.path.dirname(os.path.dirname(skmem.__file__))
    killed = subprocess.run([sys.executable, "-c", code, str(path)], env={**os.environ, "PYTHONPATH": root}, timeout=120)
    assert killed.returncode == -9
    leftovers = [n for n in os.listdir(tmp_path) if n.startswith(".tmp-")]
    assert len(leftovers) == 1 and leftovers[0].endswith("-m.skops")
    with atomic_path(path) as temporary:  # a live writer's temporary of the same file stays
        save_model(path, fitted[0])
        assert os.path.exists(temporary)
    assert sorted(os.listdir(tmp_path)) == ["m.skops"]
