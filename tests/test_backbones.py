"""Every backbone family: shapes, batch invariance, checkpoints, the store and the recorded configuration.

One small member per family, random weights or checkpoints written here: nothing is downloaded.
"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from torchvision.models import get_model_weights

from skmem import CNNFeaturizer, FrameSampler, TemporalPooling
from skmem.features import backbones
from skmem.text import CaptionEmbedder

# one member of each family: (backbone, its class); ResMem is checked with its real weights in test_resmem.py
FAMILIES = {
    "mobilenet_v3_small": backbones.TorchvisionImage,
    "r3d_18": backbones.TorchvisionVideo,
    "timm/test_vit": backbones.Timm,
    "open_clip/ViT-S-32-alt": backbones.OpenClip,
}


def quiet(backbone, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return CNNFeaturizer(backbone, **{"weights": None, "random_state": 0, "autocast": False, **params}).fit()


def clips(n_clips, n_frames, size=(40, 48), seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n_clips, n_frames, *size, 3), dtype=np.uint8)


def frames_per_step(featurizer):
    return featurizer.backbone_spec_.segment_frames or 1


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def family(request):
    """A fitted member, its input (two single-frame clips; one clip of two segments for video) and output."""
    featurizer = quiet(request.param)
    segment = featurizer.backbone_spec_.segment_frames
    frames = clips(1, 2 * segment) if segment else clips(2, 1)
    return featurizer, frames, featurizer.transform(frames)


def test_every_family_is_covered():
    registered = {type(spec) for spec in backbones.BACKBONES.values()}
    dynamic = {type(backbones.get_backbone(name)) for name in FAMILIES if "/" in name}
    assert registered | dynamic == set(FAMILIES.values()) | {backbones.ResMem}


def test_shapes_and_batch_invariance(family):
    featurizer, frames, out = family
    assert isinstance(featurizer.backbone_spec_, FAMILIES[featurizer.backbone])
    steps = (1, 2) if featurizer.backbone_spec_.segment_frames else (2, 1)
    assert out.shape == steps + (featurizer.n_features_out_,) and out.dtype == np.float32
    assert np.isfinite(out).all() and out.any()
    one_step = clone(featurizer).set_params(batch_size=frames_per_step(featurizer))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        one_step.fit()
    assert one_step.batch_size_ < featurizer.batch_size_
    np.testing.assert_allclose(one_step.transform(frames), out, rtol=1e-4, atol=1e-4)


def test_checkpoint_round_trip_and_recorded_configuration(family, tmp_path):
    featurizer, frames, out = family
    path = tmp_path / "weights.pt"
    torch.save(featurizer.network_.state_dict(), path)
    loaded = CNNFeaturizer(featurizer.backbone, weights=str(path), autocast=False).fit()
    assert loaded.weights_id_.startswith(f"file:{path}:")
    np.testing.assert_allclose(loaded.transform(frames), out, rtol=1e-4, atol=1e-4)
    config = loaded.feature_config()
    assert config["backbone"] == featurizer.backbone and config["weights"] == loaded.weights_id_
    assert config.get("segment_frames") == featurizer.backbone_spec_.segment_frames
    assert CNNFeaturizer.from_feature_config(config).fit().feature_config() == config


def test_store_round_trip(family, generated_clips, tmp_path):
    featurizer, _, _ = family
    paths = list(generated_clips[0][: 1 if featurizer.backbone_spec_.segment_frames else 2])
    sampler = FrameSampler(n_frames=frames_per_step(featurizer), strategy="fps", fps=8, size=48)
    stored = clone(featurizer).set_params(sampler=sampler, cache_dir=tmp_path, n_workers=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        first = stored.fit().transform(paths)
        again = clone(stored).fit()
        second = again.transform(paths)
    assert first.shape == (len(paths), 1, featurizer.n_features_out_) and again.report_.hits == len(paths)
    np.testing.assert_array_equal(second, first)
    np.testing.assert_allclose(first, featurizer.transform(sampler.fit_transform(paths)), rtol=1e-4, atol=1e-4)


def test_video_features_match_a_direct_call_on_each_segment(family):
    """Each segment of 16 consecutive frames, through torchvision's own transforms and network."""
    featurizer, frames, out = family
    if featurizer.backbone != "r3d_18":
        pytest.skip("a video network")
    network = featurizer.network_
    video = torch.from_numpy(frames[0]).permute(0, 3, 1, 2)  # (T, C, H, W)
    inputs = get_model_weights("r3d_18").DEFAULT.transforms()(video.reshape(2, 16, *video.shape[1:]))
    with torch.inference_mode():
        maps = network.layer4(network.layer3(network.layer2(network.layer1(network.stem(inputs)))))
        expected = network.avgpool(maps).flatten(1)
    np.testing.assert_allclose(out[0], expected.numpy(), rtol=1e-4, atol=1e-4)


def test_video_frame_counts_must_fill_segments(generated_clips):
    with pytest.raises(ValueError, match="multiple of 16"):
        quiet("r2plus1d_18", sampler=FrameSampler(n_frames=8))
    featurizer = quiet("mc3_18")
    with pytest.raises(ValueError, match="multiple of 16"):
        featurizer.transform(clips(1, 8))
    with pytest.raises(ValueError, match=r"\(n, T, H, W, 3\)"):
        featurizer.transform(clips(1, 16)[:, 0])
    assert featurizer.batch_size_ % 16 == 0 and quiet("mc3_18", batch_size=20).batch_size_ == 32


@pytest.mark.parametrize("name", ["vit_b_16", "vit_h_14", "efficientnet_v2_s", "convnext_tiny", "alexnet"])
def test_input_handling_is_the_weights_transforms(name):
    """Resize, crop, interpolation and normalisation as the weights declare (read without downloading)."""
    batch = torch.from_numpy(clips(1, 2, size=(300, 410))[0])
    expected = get_model_weights(name).DEFAULT.transforms()(batch.permute(0, 3, 1, 2).contiguous())
    torch.testing.assert_close(backbones.get_backbone(name).preprocess(batch, "cpu"), expected)


def test_named_weights_choose_their_input_size():
    assert backbones.get_backbone("vit_b_16").crop_size == 224
    assert backbones.get_backbone("vit_b_16", "IMAGENET1K_SWAG_E2E_V1").crop_size == 384
    assert backbones.get_backbone("resnet50").resize_size == 232  # IMAGENET1K_V2
    assert backbones.get_backbone("resnet50", "IMAGENET1K_V1").resize_size == 256


@pytest.mark.parametrize(
    "name,dim,head",
    [("alexnet", 4096, "classifier.6"), ("squeezenet1_1", 512, "classifier.1"), ("swin_t", 768, "head"),
     ("maxvit_t", 512, "classifier.5"), ("regnet_x_400mf", 400, "fc"), ("s3d", 1024, "classifier.1"),
     ("mvit_v2_s", 768, "head.1")],
)
def test_pooled_features_are_the_classifier_input(name, dim, head):
    spec = backbones.get_backbone(name)
    network = backbones.skeleton(spec, None)
    assert spec.head == head and network.get_submodule(head) is not None
    assert spec.locations(spec.extractor(network, ["pooled"])(spec.probe())["pooled"]).shape == (1, dim)


def test_spatial_layers_of_transformers_are_locations():
    vit = quiet("vit_b_32", layer="encoder")
    assert (vit.n_locations_, vit.n_features_out_) == (50, 768)
    swin = quiet("swin_t", layer="features")
    assert (swin.n_locations_, swin.n_features_out_) == (49, 768)


def test_dynamic_names_are_checked():
    with pytest.raises(ValueError, match="not a timm model"):
        quiet("timm/no_such_net")
    with pytest.raises(ValueError, match="not an open_clip architecture"):
        quiet("open_clip/No-Such-CLIP")
    with pytest.raises(ValueError, match="'backbone' parameter of CNNFeaturizer"):
        quiet("keras/resnet50")
    with pytest.raises(ValueError, match="not a pretrained tag"):
        CNNFeaturizer("timm/resnet18", weights="no_such_tag").fit()
    with pytest.raises(ValueError, match="pretrained tag of ViT-B-32"):
        CNNFeaturizer("open_clip/ViT-B-32", weights="no_such_tag").fit()


def test_named_weights_are_identified_without_downloading():
    timm18 = backbones.get_backbone("timm/resnet18")
    assert backbones.weights_identity(timm18, "DEFAULT") == "timm:resnet18.a1_in1k"
    assert backbones.weights_identity(timm18, "tv_in1k") == "timm:resnet18.tv_in1k"
    assert backbones.weights_from_identity("timm:resnet18.tv_in1k") == ("tv_in1k", None)
    clip = backbones.get_backbone("open_clip/ViT-B-32")
    assert backbones.weights_identity(clip, "DEFAULT") == "open_clip:ViT-B-32:openai"
    assert backbones.weights_from_identity("open_clip:ViT-B-32:laion2b_s34b_b79k") == ("laion2b_s34b_b79k", None)
    assert backbones.get_backbone("timm/resnet18.tv_in1k").interpolation == "bilinear"


@pytest.mark.parametrize(
    "backbone,n_frames", [("vit_b_16", 1), ("r2plus1d_18", 16), ("timm/resnet18", 1), ("open_clip/ViT-B-32", 1)]
)
def test_new_featurizers_in_a_pipeline_on_generated_clips(backbone, n_frames, generated_clips, tmp_path):
    paths, scores, _ = generated_clips
    sampler = FrameSampler(n_frames=n_frames, strategy="fps", fps=8, size=64)
    featurizer = CNNFeaturizer(backbone, weights=None, sampler=sampler, cache_dir=tmp_path, n_workers=0)
    model = make_pipeline(featurizer, TemporalPooling(), Ridge())
    with pytest.warns(UserWarning, match="random weights"):
        predictions = model.fit(paths[:4], scores[:4]).predict(paths[:4])
    assert predictions.shape == (4,) and np.isfinite(predictions).all()
    assert model[0].report_.hits == 4


def test_caption_embedder_with_a_clip_text_tower(tmp_path):
    captions = ["a dog runs on the beach", "a red car", None]
    embedder = CaptionEmbedder(model="open_clip/ViT-B-32", weights=None, memory=tmp_path)
    vectors = embedder.fit_transform(captions)
    assert vectors.shape == (3, 512) and embedder.model_path_ is None
    np.testing.assert_allclose(np.linalg.norm(vectors[:2], axis=1), 1, rtol=1e-5)
    assert not vectors[2].any() and not np.allclose(vectors[0], vectors[1])
    stored = clone(embedder).fit(captions[:1])  # from the store: the model is never loaded
    assert getattr(stored, "_model", None) is None
    np.testing.assert_allclose(stored.transform(captions[:1]), vectors[:1], rtol=1e-6)
    path = tmp_path / "clip.pt"
    torch.save(embedder._loaded_model().model.state_dict(), path)  # the text tower alone is not a whole model
    with pytest.raises(ValueError, match="not a whole ViT-B-32 CLIP model"):
        CaptionEmbedder(model="open_clip/ViT-B-32", weights=str(path)).fit(captions)
    with pytest.raises(ValueError, match="sentence-transformers model takes weights='DEFAULT'"):
        CaptionEmbedder(weights=None).fit(captions)


@pytest.mark.filterwarnings("ignore:.*random weights:UserWarning")
def test_command_line_extracts_with_dynamic_and_video_backbones(generated_clips, tmp_path, capsys):
    import json

    from skmem.cli import main
    from skmem.features.store import CONFIG_FILE, FeatureStore

    paths = [str(p) for p in generated_clips[0][:2]]
    common = ["--weights", "none", "--device", "cpu", "--jobs", "0", *paths]
    assert main(["extract", "--out", str(tmp_path / "vit"), "--backbone", "timm/test_vit", "--frames", "2", *common]) == 0
    with FeatureStore(tmp_path / "vit") as store:
        assert [store.load(p, {"pooled": None})["pooled"].shape for p in paths] == [(2, 64), (2, 64)]
    assert main(["extract", "--out", str(tmp_path / "r3d"), "--backbone", "mc3_18", "--frames", "8", *common]) == 1
    assert "multiple of 16" in capsys.readouterr().err
    config = json.loads((tmp_path / "vit" / CONFIG_FILE).read_text())
    assert config["backbone"] == "timm/test_vit" and config["weights"] == "random:0"


def test_class_activation_maps_where_the_head_is_one_linear_layer():
    from skmem.explain import class_activation_maps

    featurizer = quiet("regnet_x_400mf")
    maps, targets = class_activation_maps(featurizer, clips(1, 2), return_targets=True)
    assert maps.shape == (1, 2, 224, 224) and targets.shape == (1, 2)
    assert np.allclose(maps.min(axis=(2, 3)), 0) and np.allclose(maps.max(axis=(2, 3)), 1)
    with pytest.raises(ValueError, match="'vit_b_32' is not one"):
        class_activation_maps(quiet("vit_b_32"), clips(1, 1))


def test_automatic_precision_keeps_clip_towers_in_float32_on_the_cpu(monkeypatch):
    from skmem.features import cnn

    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True, raising=False)
    assert quiet("mobilenet_v3_small", autocast="auto", device="cpu").feature_config()["precision"] == "bfloat16"
    clip = quiet("open_clip/ViT-S-32-alt", autocast="auto", device="cpu")
    assert clip.feature_config()["precision"] == "float32"
    assert cnn.resolve_autocast("auto", torch.device("cpu"))  # without a backbone: the CPU decides
