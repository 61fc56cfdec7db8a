"""The ready-made estimators: the multimodal preset and the CLI's model presets."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_predict

from skmem.datasets.multimodal import make_multimodal_memorability
from skmem.metrics import spearman_score
from skmem.models.fusion import RankFusionRegressor
from skmem.pipelines import AuxiliaryTargetRegressor, make_model, memorability_pipeline, signed_sqrt

N_OBJECTS = 80


@pytest.fixture(scope="module")
def data():
    return make_multimodal_memorability(400, n_objects=N_OBJECTS, random_state=0)


def _objects(frame):
    return [c for c in frame.columns if c.startswith("obj_")]


def _oof(model, X, y):
    return spearman_score(y, cross_val_predict(model, X, y, cv=KFold(3, shuffle=True, random_state=0)))


def test_preset_structure_names_every_member_and_block(data):
    model = memorability_pipeline("caption", {"objects": _objects(data.frame)}, embeddings=False)
    assert isinstance(model, RankFusionRegressor)
    assert [name for name, _ in model.estimators] == ["early", "text", "objects"]
    early = model.get_params()["early__features"]
    assert isinstance(early, ColumnTransformer)
    assert [name for name, _, _ in early.transformers] == ["words", "objects"]
    params = model.get_params()
    assert "early__features__words__ngram_range" in params
    assert "objects__nystroem__gamma" in params and "text__ridgecv__alphas" in params
    model.set_params(early__ridgecv__alphas=(1.0,))
    assert model.get_params()["early__ridgecv__alphas"] == (1.0,)


def test_preset_clones_and_pickles_unfitted_and_fitted(data):
    model = memorability_pipeline("caption", {"objects": _objects(data.frame)}, embeddings=False)
    twin = clone(model)
    assert twin.get_params(deep=False).keys() == model.get_params(deep=False).keys()
    X, y = data.frame.iloc[:200], data.frame["short_term"].to_numpy()[:200]
    fitted = model.fit(X, y)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(X), fitted.predict(X))


def test_preset_beats_each_modality_alone_and_a_shuffled_control(data):
    X, y = data.frame, data.frame["short_term"].to_numpy()
    objects = _objects(X)
    fused = _oof(memorability_pipeline("caption", {"objects": objects}, embeddings=False, cv=3), X, y)
    text_only = _oof(memorability_pipeline("caption", embeddings=False, cv=3), X, y)
    objects_only = _oof(memorability_pipeline(None, {"objects": objects}, cv=3), X, y)
    control = _oof(
        memorability_pipeline("caption", {"objects": objects}, embeddings=False, cv=3),
        X, np.random.default_rng(0).permutation(y),
    )
    assert fused > max(text_only, objects_only) + 0.01
    assert abs(control) < 0.1 < text_only
    assert objects_only > 0.1


def test_preset_learns_with_sentence_embeddings_cached_in_memory(data, tmp_path):
    pytest.importorskip("sentence_transformers")
    X, y = data.frame.iloc[:200], data.frame["short_term"].to_numpy()[:200]
    model = memorability_pipeline("caption", {"objects": _objects(X)}, memory=tmp_path, cv=3)
    assert model.get_params()["early__features__sentences__memory"] == tmp_path
    learned = _oof(model, X, y)
    assert any(tmp_path.iterdir()), "the embeddings were not stored in memory"
    control = _oof(model, X, np.random.default_rng(0).permutation(y))
    assert learned > control + 0.15


def test_preset_rejects_bad_specifications():
    with pytest.raises(ValueError, match="needs text columns, features, or both"):
        memorability_pipeline(None)
    with pytest.raises(ValueError, match=r"features\['objects'\]"):
        memorability_pipeline("caption", {"objects": 3})
    with pytest.raises(ValueError, match="reserved"):
        memorability_pipeline("caption", {"text": ["a"]})


def test_signed_sqrt_keeps_order_and_sign():
    x = np.array([[-4.0, -1.0, 0.0, 0.25, 9.0]])
    out = signed_sqrt(x)
    np.testing.assert_allclose(out, [[-2.0, -1.0, 0.0, 0.5, 3.0]])


def test_auxiliary_target_uses_the_column_in_fit_only(data):
    frame = data.frame
    y = frame["long_term"].to_numpy()
    model = AuxiliaryTargetRegressor(
        make_model_on(["obj_0", "obj_1"]), column="short_term", weight=1.0
    ).fit(frame, y)
    # weight=1 trains on the auxiliary target alone: same ranking as a model fitted on it
    alone = make_model_on(["obj_0", "obj_1"]).fit(frame, frame["short_term"])
    assert spearman_score(alone.predict(frame), model.predict(frame)) > 0.999
    # predictions live on the scale of y, and never read the auxiliary column
    predicted = model.predict(frame.assign(short_term=np.nan))
    assert abs(predicted.mean() - y.mean()) < y.std()


def test_auxiliary_target_names_a_missing_column(data):
    with pytest.raises(ValueError, match="column='nope'"):
        AuxiliaryTargetRegressor(Ridge(), column="nope").fit(data.frame, data.frame["long_term"])
    with pytest.raises(ValueError, match="'weight' parameter"):
        AuxiliaryTargetRegressor(Ridge(), weight=2.0).fit(data.frame, data.frame["long_term"])


def test_short_term_help_long_term_on_generated_data():
    # 800 clips: on 400 the gain of the auxiliary target is within the noise of ρ for some seeds.
    X = make_multimodal_memorability(800, n_objects=N_OBJECTS, random_state=0).frame
    y = X["long_term"].to_numpy()
    objects = _objects(X)
    plain = _oof(memorability_pipeline("caption", {"objects": objects}, embeddings=False, cv=3), X, y)
    helped = _oof(
        memorability_pipeline(
            "caption", {"objects": objects}, embeddings=False, auxiliary_target="short_term", cv=3
        ),
        X, y,
    )
    assert helped > plain


def make_model_on(columns):
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline

    return make_pipeline(make_column_transformer(("passthrough", columns)), Ridge(alpha=1e-3))


@pytest.mark.parametrize("name", ["ridge", "svr"])
def test_cli_presets_pool_then_regress(name):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4, 6))
    y = X[:, :, 0].mean(axis=1) + 0.05 * rng.normal(size=80)
    model = make_model(name, X.ndim)
    assert spearman_score(y, cross_val_predict(model, X, y, cv=KFold(4, shuffle=True, random_state=0))) > 0.6


# -- the catalogue --------------------------------------------------------------------------


def test_every_preset_of_the_catalogue_builds_from_a_description(data):
    from skmem.pipelines import PRESETS, describe_input

    frame = describe_input(data.frame, text="caption", features={"objects": _objects(data.frame)})
    for name in PRESETS:
        model = make_model(name, frame if name == "multimodal" else 3, device="cpu", **(
            {"embeddings": False} if name == "multimodal" else {}))
        assert clone(model).get_params().keys() == model.get_params().keys()
    with pytest.raises(ValueError, match="unknown preset 'forest'; choose from ridge, svr"):
        make_model("forest", 3)
    with pytest.raises(TypeError, match="embeddings"):
        make_model("ridge", 3, embeddings=False)


def test_a_final_estimator_replaces_the_presets_regressor(data):
    from sklearn.svm import SVR

    from skmem.pipelines import describe_input

    pooled = make_model("ridge", 3, estimator=SVR(C=3.0))
    assert [name for name, _ in pooled.steps] == ["temporalpooling", "standardscaler", "svr"]
    description = describe_input(data.frame, text="caption", features={"objects": _objects(data.frame)})
    fused = make_model("multimodal", description, estimator=SVR(C=3.0), embeddings=False)
    params = fused.get_params()
    assert params["objects__regressor__C"] == 3.0 and params["text__regressor__C"] == 3.0
    assert params["objects__regressor"] is not params["text__regressor"]
    assert "early__ridgecv__alphas" in params  # the early-fusion member keeps its own ridge


def test_presets_follow_the_rank_of_the_features():
    from sklearn.preprocessing import FunctionTransformer

    from skmem.models import AMNetRegressor, LSTMRegressor

    assert isinstance(make_model("lstm", 3, device="cpu"), LSTMRegressor)
    spatial = make_model("lstm", 4, device="cpu")
    assert isinstance(spatial.steps[0][1], FunctionTransformer) and isinstance(spatial.steps[-1][1], LSTMRegressor)
    assert isinstance(make_model("amnet", 4, device="cpu"), AMNetRegressor)  # reads the locations itself
    assert [name for name, _ in make_model("ridge", 2).steps] == ["standardscaler", "ridge"]
    with pytest.raises(ValueError, match=r"LSTMRegressor needs frame features \(n, T, D\)"):
        make_model("lstm", 2)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3, 4, 5))
    y = X[:, :, :, 0].mean(axis=(1, 2))
    pooled = make_model("ridge", 4).fit(X, y)
    assert spearman_score(y, pooled.predict(X)) > 0.9


def test_a_featurizer_in_the_description_comes_first():
    from sklearn.preprocessing import FunctionTransformer

    from skmem.pipelines import describe_input

    def features_of(paths):
        return np.array([[[len(p), p.count("a")]] * 2 for p in paths], dtype=float)

    paths = np.array([f"clip{'a' * i}{i}.webm" for i in range(30)], dtype=object)
    featurizer = FunctionTransformer(features_of)
    description = describe_input(paths, featurizer=featurizer)
    assert description.rank is None
    model = make_model("ridge", description)
    assert model.steps[0][1] is not featurizer and isinstance(model.steps[0][1], FunctionTransformer)
    y = np.arange(30.0)
    assert spearman_score(y, model.fit(paths, y).predict(paths)) > 0.99


def test_long_term_description_trains_with_the_short_term_target_by_default(data):
    from skmem.pipelines import InputDescription, describe_input

    frame = data.frame
    blocks = {"objects": _objects(frame)}
    long_term = describe_input(frame, text="caption", features=blocks, target="long_term")
    assert long_term.auxiliary == "short_term"
    assert describe_input(frame, text="caption", features=blocks, target="short_term").auxiliary is None
    assert describe_input(frame, text="caption", features=blocks, target="long_term", auxiliary=None).auxiliary is None
    model = make_model("multimodal", long_term, embeddings=False)
    assert isinstance(model, AuxiliaryTargetRegressor) and model.column == "short_term" and model.weight == 0.5
    plain = make_model("multimodal", describe_input(frame, text="caption", features=blocks), embeddings=False)
    assert isinstance(plain, RankFusionRegressor)

    # arrays: the auxiliary target is a fit parameter, each fold given its rows
    from skmem.evaluation import cross_validation_table, make_folds

    X = frame[_objects(frame)].to_numpy()
    y, short = frame["long_term"].to_numpy(), frame["short_term"].to_numpy()
    helped = make_model("ridge", InputDescription(rank=2, auxiliary="short_term"), auxiliary_weight=1.0)
    table = cross_validation_table({"helped": helped}, X, y, cv=4, params={"auxiliary": short})
    plain = cross_validation_table({"plain": make_model("ridge", 2)}, X, y, cv=4)
    shortcut = cross_validation_table({"short": make_model("ridge", 2)}, X, short, cv=4)
    # weight 1 trains on the short-term scores alone: in each fold, the ranking of a model fitted on them
    for _, test in make_folds(4).split(X):
        assert spearman_score(shortcut.predictions["short"][test], table.predictions["helped"][test]) > 0.999
    assert not np.allclose(table.predictions["helped"], plain.predictions["plain"])
    with pytest.raises(ValueError, match="no auxiliary target"):
        clone(helped).fit(X, y)


def test_clip_paths_or_frames_need_a_featurizer(tmp_path):
    from skmem.pipelines import describe_input
    from skmem.video import FrameSampler

    with pytest.raises(ValueError, match=r"X of rank 1 \(clip paths\?\) is not features: give the featurizer"):
        describe_input(["a.webm", "b.webm"])
    frames = FrameSampler().transform([str(tmp_path / "missing.webm")])  # lazy: nothing is decoded to describe it
    with pytest.raises(ValueError, match=r"X of rank 5 \(frames\?\)"):
        describe_input(frames)
    with pytest.raises(ValueError, match="the multimodal preset reads DataFrame columns"):
        make_model("multimodal", describe_input(["a.webm"], featurizer=FrameSampler()))
