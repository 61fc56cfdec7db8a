import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from torchvision.models import get_model, get_model_weights

from skmem import CNNFeaturizer


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(3, 2, 224, 224, 3), dtype=np.uint8)


def quiet(**params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return CNNFeaturizer(**params).fit()


def test_pooled_shape_and_dtype(random_featurizer, frames):
    out = random_featurizer.transform(frames)
    assert out.shape == (3, 2, 512) and out.dtype == np.float32
    assert random_featurizer.n_features_out_ == 512 and random_featurizer.n_locations_ is None


def test_resnet50_pooled_and_layer3_shapes(frames):
    pooled = quiet(backbone="resnet50", weights=None, random_state=0)
    assert pooled.transform(frames[:1, :1]).shape == (1, 1, 2048)
    spatial = quiet(backbone="resnet50", weights=None, layer="layer3", random_state=0)
    out = spatial.transform(frames[:1, :1])
    assert out.shape == (1, 1, 196, 1024)
    assert spatial.n_locations_ == 196 and spatial.n_features_out_ == 1024


def test_image_input_has_no_time_axis(random_featurizer, frames):
    assert random_featurizer.transform(frames[:, 0]).shape == (3, 512)


def test_same_output_across_batch_sizes(frames):
    a = quiet(backbone="resnet18", weights=None, random_state=0, batch_size=1, autocast=False).transform(frames)
    b = quiet(backbone="resnet18", weights=None, random_state=0, batch_size=5, autocast=False).transform(frames)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_random_weights_warn_and_are_seeded(frames):
    with pytest.warns(UserWarning, match="random weights"):
        a = CNNFeaturizer("resnet18", weights=None, random_state=3).fit().transform(frames[:1])
    b = quiet(backbone="resnet18", weights=None, random_state=3).transform(frames[:1])
    c = quiet(backbone="resnet18", weights=None, random_state=4).transform(frames[:1])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_frames_of_other_sizes_are_resized(random_featurizer):
    small = np.full((1, 1, 100, 150, 3), 128, np.uint8)
    assert random_featurizer.transform(small).shape == (1, 1, 512)


def test_plain_state_dict_checkpoint(tmp_path, frames):
    torch.manual_seed(1)
    network = get_model("resnet18", weights=None).eval()
    path = tmp_path / "resnet18.pt"
    torch.save(network.state_dict(), path)
    featurizer = CNNFeaturizer("resnet18", weights=str(path), autocast=False).fit()
    network.fc = torch.nn.Identity()
    with torch.inference_mode():
        expected = network(featurizer.preprocess(torch.from_numpy(frames[0]), "cpu")).numpy()
    np.testing.assert_allclose(featurizer.transform(frames[:1])[0], expected, rtol=1e-4, atol=1e-5)


def test_places365_style_checkpoint(tmp_path, frames):
    torch.manual_seed(2)
    network = get_model("resnet18", weights=None, num_classes=365).eval()
    state = {f"module.{k}": v for k, v in network.state_dict().items()}
    path = tmp_path / "resnet18_places365.pth.tar"
    torch.save({"epoch": 90, "arch": "resnet18", "state_dict": state, "best_prec1": 54.7}, path)
    featurizer = CNNFeaturizer("resnet18", weights=str(path)).fit()
    assert featurizer.network_.fc.out_features == 365
    torch.testing.assert_close(featurizer.network_.layer1[0].conv1.weight, network.layer1[0].conv1.weight)


def test_old_densenet_keys_are_renamed(tmp_path):
    torch.manual_seed(3)
    network = get_model("densenet161", weights=None, num_classes=365).eval()
    state = {}
    for key, value in network.state_dict().items():
        for new, old in (("norm1", "norm.1"), ("norm2", "norm.2"), ("conv1", "conv.1"), ("conv2", "conv.2")):
            if "denselayer" in key:
                key = key.replace(f".{new}.", f".{old}.")
        state[f"module.{key}"] = value
    path = tmp_path / "densenet161_places365.pth.tar"
    torch.save({"state_dict": state}, path)
    featurizer = CNNFeaturizer("densenet161", weights=str(path)).fit()
    torch.testing.assert_close(
        featurizer.network_.features.denseblock1.denselayer1.conv1.weight,
        network.features.denseblock1.denselayer1.conv1.weight,
    )
    assert featurizer.n_features_out_ == 2208


def test_torchvision_weights_name_loads_from_hub_cache(tmp_path, monkeypatch, frames):
    """A weights name resolves through torchvision's own loader and cache (no network here)."""
    weights = get_model_weights("resnet18").DEFAULT
    torch.manual_seed(4)
    network = get_model("resnet18", weights=None).eval()
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.save(network.state_dict(), checkpoints / weights.url.rsplit("/", 1)[-1])
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    featurizer = CNNFeaturizer("resnet18", weights="DEFAULT").fit()
    torch.testing.assert_close(featurizer.network_.conv1.weight, network.conv1.weight)
    by_name = CNNFeaturizer("resnet18", weights="ResNet18_Weights.IMAGENET1K_V1").fit()
    torch.testing.assert_close(by_name.network_.conv1.weight, network.conv1.weight)


def test_bad_weights_are_named(tmp_path):
    with pytest.raises(ValueError, match="IMAGENET9"):
        CNNFeaturizer("resnet18", weights="IMAGENET9").fit()
    with pytest.raises(FileNotFoundError, match="nothere.pth"):
        CNNFeaturizer("resnet18", weights=str(tmp_path / "nothere.pth")).fit()
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.pth"):
        CNNFeaturizer("resnet18", weights=str(junk)).fit()
    other = tmp_path / "alexnet.pt"
    torch.save(get_model("alexnet", weights=None).state_dict(), other)
    with pytest.raises(ValueError, match="alexnet.pt"):
        CNNFeaturizer("resnet18", weights=str(other)).fit()


def test_bad_parameters_and_input(random_featurizer):
    with pytest.raises(ValueError, match="backbone"):
        CNNFeaturizer("vgg99").fit()
    with pytest.raises(ValueError, match="layer"), pytest.warns(UserWarning, match="random weights"):
        CNNFeaturizer("resnet18", weights=None, layer="layer9").fit()
    with pytest.raises(ValueError, match="batch_size"):
        CNNFeaturizer("resnet18", weights=None, batch_size=0).fit()
    with pytest.raises(ValueError, match="uint8"):
        random_featurizer.transform(np.zeros((1, 2, 32, 32, 3), np.float32))
    with pytest.raises(ValueError, match="shape"):
        random_featurizer.transform(np.zeros((1, 2, 32, 32), np.uint8))
    # Fit reads no data (requires_fit=False): an unfitted featurizer transforms as a fitted one.
    frames = np.random.default_rng(0).integers(0, 255, (1, 1, 32, 32, 3), dtype=np.uint8)
    unfitted = clone(random_featurizer)
    np.testing.assert_array_equal(unfitted.transform(frames), random_featurizer.transform(frames))
    assert not hasattr(unfitted, "weights_id_")


@pytest.mark.parametrize("backbone,dim", [("alexnet", 4096), ("inception_v3", 2048)])
def test_other_backbones(backbone, dim):
    featurizer = quiet(backbone=backbone, weights=None, random_state=0)
    out = featurizer.transform(np.full((1, 1, 224, 224, 3), 90, np.uint8))
    assert out.shape == (1, 1, dim) and np.isfinite(out).all()


def test_clone_and_pickle(random_featurizer, frames):
    assert clone(random_featurizer).get_params() == random_featurizer.get_params()
    restored = pickle.loads(pickle.dumps(random_featurizer))
    np.testing.assert_array_equal(restored.transform(frames[:1]), random_featurizer.transform(frames[:1]))


@pytest.mark.parametrize(
    "param,value",
    [("backbone", "vgg99"), ("batch_size", 0), ("n_workers", -1), ("autocast", "yes"), ("cache_key", "mtime"),
     ("random_state", -1), ("layer", 3)],
)
def test_invalid_parameters_are_named_at_fit(param, value):
    with pytest.raises(ValueError, match=f"'{param}' parameter of CNNFeaturizer"):
        CNNFeaturizer(weights=None, **{param: value}).fit()


def test_unknown_parameter_fails_at_set_params():
    with pytest.raises(ValueError, match="batchsize"):
        CNNFeaturizer().set_params(batchsize=3)


def test_bad_layer_is_named_at_fit():
    with pytest.raises(ValueError, match="layer='layer9' is not a layer of resnet18"):
        quiet(backbone="resnet18", weights=None, layer="layer9")


def test_logits_are_the_whole_network_output(frames):
    model = quiet(backbone="resnet18", weights=None, random_state=0, layer="logits", autocast=False)
    assert model.n_classes_ == 1000 and model.n_features_out_ == 1000 and model.n_locations_ is None
    logits = model.transform(frames[:1])
    with torch.inference_mode():
        expected = model.network_(model.preprocess(torch.from_numpy(frames[0]), "cpu")).numpy()
    assert logits.shape == (1, 2, 1000)
    np.testing.assert_allclose(logits[0], expected, rtol=1e-4, atol=1e-4)


def test_class_count_of_a_checkpoint_is_read_without_building(tmp_path, monkeypatch):
    from skmem.features import backbones

    torch.save(get_model("resnet18", weights=None, num_classes=365).state_dict(), tmp_path / "places.pt")
    builds = count_builds(monkeypatch)
    model = CNNFeaturizer("resnet18", weights=str(tmp_path / "places.pt"), layer="logits").fit()
    assert (model.n_classes_, model.n_features_out_, builds) == (365, 365, [])
    assert model.weights_id_ == backbones.weights_identity(model.backbone_spec_, str(tmp_path / "places.pt"))


def count_builds(monkeypatch):
    """Record every call of the real ``build_network``."""
    from skmem.features import backbones

    calls, real = [], backbones.build_network

    def counting(*args, **kwargs):
        calls.append(args[0].name)
        return real(*args, **kwargs)

    monkeypatch.setattr(backbones, "build_network", counting)
    return calls


def test_fit_builds_nothing_and_the_network_is_built_once_per_instance(monkeypatch, frames):
    builds = count_builds(monkeypatch)
    model = quiet(backbone="resnet18", weights=None, random_state=0, layer="layer3")
    assert builds == [] and (model.n_locations_, model.n_features_out_) == (196, 256)
    first = model.transform(frames[:1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model.fit()
    model.transform(frames[:1])
    assert builds == ["resnet18"]  # a refit with the same settings keeps the network
    other = clone(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        other.fit()
    np.testing.assert_array_equal(other.transform(frames[:1]), first)
    assert builds == ["resnet18", "resnet18"] and other.network_ is not model.network_  # clones share nothing
    model.set_params(random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model.fit()
    assert not np.allclose(model.transform(frames[:1]), first) and len(builds) == 3


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the exit without a CUDA device")
def test_gpu_benchmark_exits_cleanly_without_cuda():
    import os
    import subprocess
    import sys

    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks", "bench_gpu.py")
    run = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "no CUDA device" in run.stdout


def test_a_recorded_configuration_rebuilds_the_same_featurizer(tmp_path):
    from skmem import CNNFeaturizer, FrameSampler
    from skmem.features.backbones import weights_from_identity

    with pytest.warns(UserWarning, match="random weights"):
        original = CNNFeaturizer(
            "resnet18", weights=None, random_state=3, layer="layer3", sampler=FrameSampler(n_frames=2, size=64)
        ).fit()
    config = original.feature_config()
    with pytest.warns(UserWarning, match="random weights"):
        rebuilt = CNNFeaturizer.from_feature_config(config, cache_dir=tmp_path).fit()
    assert rebuilt.feature_config() == config
    assert rebuilt.cache_dir == tmp_path
    with pytest.raises(ValueError, match="not a weights identity"):
        weights_from_identity("somewhere:else")
