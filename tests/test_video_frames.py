"""SampledFrames: FrameSampler's lazy output, read as an array or streamed by a featurizer."""

import os
import pickle
import threading

import numpy as np
import pytest
from _extract_worker import featurizer, reference_features
from _extract_worker import store_files as cache_entries
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline

from skmem import CNNFeaturizer, FrameSampler, TemporalPooling, spearman_scorer
from skmem._params import safe_indexing
from skmem.text import TagCaptioner
from skmem.video import SampledFrames, VideoDecodeError

pytestmark = pytest.mark.filterwarnings("ignore:.*random weights:UserWarning")


@pytest.fixture(scope="module")
def clips(generated_clips):
    return list(generated_clips[0][:6])


@pytest.fixture
def broken_clip(tmp_path):
    path = tmp_path / "broken.webm"
    path.write_bytes(b"\x1a\x45\xdf\xa3" + b"garbage" * 100)
    return str(path)


@pytest.fixture
def decoded(monkeypatch):
    """Paths decoded from now on, in the order their decode finished (from any thread)."""
    done, lock = [], threading.Lock()
    decode = FrameSampler.decode

    def counted(self, path):
        result = decode(self, path)
        with lock:
            done.append(path)
        return result

    monkeypatch.setattr(FrameSampler, "decode", counted)
    return done


def forward_frames(model):
    seen = []
    model.extractor_.register_forward_hook(lambda module, inputs, output: seen.append(len(inputs[0])))
    return seen


def pipeline(cache_dir=None, **sampler):
    """FrameSampler then a seeded resnet18 featurizer without a sampler of its own."""
    return Pipeline(
        [("frames", FrameSampler(**{"n_frames": 2, "size": 64, **sampler})), ("cnn", featurizer(cache_dir, sampler=None))]
    )


def test_transform_decodes_nothing_and_asarray_is_the_eager_decode(clips, decoded):
    sampler = FrameSampler(n_frames=2, size=32)
    frames = sampler.fit_transform(clips[:4])
    assert isinstance(frames, SampledFrames) and decoded == []
    assert frames.shape == (4, 2, 32, 32, 3) and len(frames) == 4 and frames.dtype == np.uint8 and frames.ndim == 5
    eager = np.stack([sampler.sample_clip(path) for path in clips[:4]])
    decoded.clear()
    np.testing.assert_array_equal(np.asarray(frames), eager)
    np.testing.assert_array_equal(np.asarray(FrameSampler(n_frames=2, size=32, n_jobs=2).transform(clips[:4])), eager)
    assert len(decoded) == 8  # nothing is kept: each read decodes
    assert np.asarray(frames, dtype=np.float32).dtype == np.float32 and frames.astype(int).dtype == int
    assert (frames == eager).all() and not (frames != eager).any()  # operators read it as an array
    restored = pickle.loads(pickle.dumps(frames))
    np.testing.assert_array_equal(restored, eager)


def test_shape_is_known_from_the_settings_or_left_open(clips):
    assert FrameSampler(n_frames=3, size=(20, 50)).transform(clips[:2]).shape == (2, 3, 20, 50, 3)
    for settings, side in (({"size": None}, 64), ({"size": 32, "crop": None}, 32)):
        frames = FrameSampler(n_frames=3, **settings).transform(clips[:2])
        assert frames.shape == (2, 3, None, None, 3)  # only decoding tells
        assert np.asarray(frames).shape == (2, 3, side, side, 3)


def test_indexing_selects_clips_without_decoding(clips, decoded):
    frames = FrameSampler(n_frames=2, size=32).transform(clips)
    for key in (slice(1, 4), [4, 0, 0], np.array([True, False, True, False, False, True])):
        picked = frames[key]
        assert isinstance(picked, SampledFrames) and list(picked.paths) == list(np.asarray(clips)[key])
    assert isinstance(frames[[1, 2], ...], SampledFrames)
    for indices in ([0, 2], np.array([5, 1]), slice(None, None, 2)):
        assert isinstance(safe_indexing(frames, indices), SampledFrames)  # what cross-validation splits call
    assert decoded == []
    dense = np.asarray(frames)
    np.testing.assert_array_equal(frames[1], dense[1])
    np.testing.assert_array_equal(frames[-1], dense[-1])
    np.testing.assert_array_equal(frames[2:4], dense[2:4])
    for key in ((slice(None), 0), ([0, 2], [0, 1]), (1, slice(None), [0, 1]), (Ellipsis, 0)):
        np.testing.assert_array_equal(frames[key], dense[key])
    np.testing.assert_array_equal(np.stack(list(frames)), dense)
    with pytest.raises(IndexError):
        frames[6]
    with pytest.raises(TypeError):
        frames[0] = 0  # read-only


def test_the_report_is_the_samplers_and_describes_the_last_full_read(clips, broken_clip):
    sampler = FrameSampler(n_frames=2, size=32, on_error="warn")
    frames = sampler.transform([clips[0], broken_clip])
    assert sampler.report_ is frames.report and frames.report.failures == []  # nothing read yet
    for _ in range(2):
        with pytest.warns(UserWarning, match="broken.webm"):
            dense = np.asarray(frames)
        assert (dense[1] == 0).all() and sampler.report_.failed_paths == [broken_clip]  # emptied, then refilled
    (error,) = sampler.report_.failures
    assert isinstance(error, VideoDecodeError) and str(error.cause)
    assert frames[0].shape == (2, 32, 32, 3)
    assert sampler.report_.failed_paths == [broken_clip]  # reading one clip leaves it alone
    sampler.set_params(size=16)
    assert frames.shape[2] == 32  # the frames keep the settings they were made with


def test_an_unreadable_clip_raises_when_read_naming_it(clips, broken_clip):
    frames = FrameSampler(n_frames=2, size=32).transform([clips[0], broken_clip])
    with pytest.raises(VideoDecodeError, match="broken.webm"):
        np.asarray(frames)
    with pytest.raises(VideoDecodeError, match="broken.webm"):
        pipeline().fit_transform([clips[0], broken_clip])


def test_a_pipeline_streams_the_same_features_as_the_sampler_form(clips):
    pipe = pipeline()
    features = pipe.fit_transform(clips)
    np.testing.assert_allclose(features, featurizer(None).transform(clips), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(features, reference_features(clips), rtol=1e-4, atol=1e-5)
    assert pipe["cnn"].report_ is pipe["frames"].report_ and pipe["cnn"].report_.misses == len(clips)
    both = pipe["cnn"].transform_outputs(pipe["frames"].transform(clips))
    np.testing.assert_allclose(both["pooled"], features, rtol=1e-5, atol=1e-6)


def test_a_pipeline_holds_a_few_clips_not_the_dataset(generated_clips, decoded):
    paths = list(generated_clips[0][:24])
    pipe = pipeline()
    pipe.set_params(cnn__n_workers=2, cnn__batch_size=2)  # one clip per batch, two decoding threads
    fed = forward_frames(pipe["cnn"])
    waiting = []
    pipe["cnn"].extractor_.register_forward_pre_hook(
        lambda module, inputs: waiting.append(len(decoded) - sum(fed) // 2)  # decoded, not yet through the network
    )
    features = pipe.fit(paths).transform(paths)
    assert features.shape == (24, 2, 512) and sum(fed) == 2 * 24 and len(decoded) == 24
    clips_per_batch, ahead = 1, 2 * 2  # stream_clips decodes 2 * max(clips per batch, threads) ahead
    assert max(waiting) <= ahead + clips_per_batch < 24


def test_either_form_reads_what_the_other_stored(clips, tmp_path, decoded):
    sampler_form = featurizer(tmp_path)
    sampler_form.transform(clips[:3])
    assert sampler_form.report_.misses == 3 and len(decoded) == 3
    pipe = pipeline(tmp_path, n_jobs=2)  # runtime settings do not change the store's configuration
    decoded.clear()
    fed = forward_frames(pipe["cnn"])
    features = pipe.fit_transform(clips[:5])
    assert sorted(decoded) == sorted(clips[3:5]) and sum(fed) == 2 * 2
    report = pipe["cnn"].report_
    assert (report.hits, report.misses) == (3, 2) and pipe["frames"].report_ is report
    decoded.clear()
    again = featurizer(tmp_path)
    fed = forward_frames(again)
    np.testing.assert_array_equal(again.transform(clips[:5]), features)
    assert decoded == [] and fed == [] and again.report_.hits == 5
    assert sorted(cache_entries(tmp_path)) == sorted(os.path.basename(c) for c in clips[:5])
    files = pipe["cnn"].extract(pipe["frames"].transform(clips[:5]))
    assert all(files) and pipe["cnn"].report_.hits == 5


def test_cross_validation_over_the_pipeline_and_over_frames(generated_clips, decoded):
    paths, scores = generated_clips[0][:8], generated_clips[1][:8]
    folds = KFold(2, shuffle=True, random_state=0)

    def steps():
        cnn = CNNFeaturizer("resnet18", weights=None, random_state=0, batch_size=8, n_workers=0, autocast=False)
        return [cnn, TemporalPooling("mean"), Ridge(alpha=1.0)]

    over_paths = cross_val_score(make_pipeline(FrameSampler(n_frames=2, size=32), *steps()), paths, scores,
                                 cv=folds, scoring=spearman_scorer, error_score="raise")
    assert np.all(np.isfinite(over_paths))
    frames = FrameSampler(n_frames=2, size=32).fit_transform(paths)
    decoded.clear()
    over_frames = cross_val_score(make_pipeline(*steps()), frames, scores, cv=folds, scoring=spearman_scorer,
                                  error_score="raise")
    np.testing.assert_allclose(over_frames, over_paths)
    assert len(decoded) == 2 * len(paths)  # each fold decodes its clips once: the splits stay lazy


def test_two_samplers_are_refused(clips):
    frames = FrameSampler(n_frames=2, size=64).transform(clips[:1])
    with pytest.raises(ValueError, match="two samplers"):
        featurizer(None).transform(frames)
    with pytest.raises(ValueError, match="two samplers"):
        featurizer(None).fit(frames)


def test_tags_from_frames_match_tags_from_paths(clips, broken_clip):
    settings = {"weights": None, "random_state": 0, "n_workers": 0, "device": "cpu", "layer": "logits"}
    sampler = FrameSampler(n_frames=2, size=64, on_error="warn")
    paths = [clips[0], broken_clip, clips[1]]
    own = TagCaptioner(CNNFeaturizer("resnet18", sampler=sampler, **settings), top_k=5).fit()
    with pytest.warns(UserWarning, match="broken.webm"):
        expected = own.transform(paths)
    tagger = TagCaptioner(CNNFeaturizer("resnet18", **settings), top_k=5).fit()
    with pytest.warns(UserWarning, match="broken.webm"):
        captions = tagger.transform(sampler.transform(paths))
    np.testing.assert_array_equal(captions, expected)
    assert captions[1] == "" and tagger.report_.failed_paths == [broken_clip]

