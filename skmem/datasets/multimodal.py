"""Generated multimodal memorability data: captions, object scores and noisy labels."""

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state

from skmem._validation import check_positive_int

__all__ = ["make_multimodal_memorability", "COCO_OBJECTS", "TOPICS"]

COCO_OBJECTS = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
    "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
    "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip

# name: (frequency, short-term effect, long-term effect, caption words, detected objects)
TOPICS = {
    "people": (0.30, 0.5, 0.3, ("man", "woman", "couple", "businessman", "girl", "boy", "family", "child"),
               ("person", "handbag", "backpack", "tie", "cell phone")),
    "face": (0.08, 0.8, 0.5, ("face", "portrait", "smiling", "eyes", "laughing", "closeup"), ("person",)),
    "animals": (0.10, 0.6, 0.6, ("dog", "cat", "horse", "bird", "cow", "elephant", "puppy"),
                ("dog", "cat", "horse", "bird", "cow", "elephant", "sheep", "zebra")),
    "text": (0.05, 0.7, 0.6, ("text", "sign", "logo", "title", "words", "message"),
             ("book", "laptop", "tv", "cell phone", "stop sign", "clock")),
    "food": (0.07, 0.2, 0.1, ("food", "pizza", "cake", "coffee", "kitchen", "cooking"),
             ("pizza", "cake", "cup", "bowl", "dining table", "wine glass", "fork", "oven")),
    "vehicles": (0.08, 0.0, 0.0, ("car", "traffic", "road", "train", "highway", "truck"),
                 ("car", "bus", "truck", "train", "traffic light", "motorcycle", "bicycle")),
    "city": (0.10, -0.1, -0.1, ("city", "street", "buildings", "skyline", "downtown"),
             ("car", "traffic light", "bench")),
    "landscape": (0.14, -0.6, -0.4, ("mountain", "valley", "field", "forest", "desert", "hills", "trees"),
                  ("potted plant",)),
    "sky": (0.09, -0.7, -0.5, ("sky", "clouds", "sunset", "sun", "stars", "moon"), ("kite",)),
    "water": (0.11, -0.6, -0.4, ("ocean", "sea", "river", "lake", "waves", "beach", "water"),
              ("boat", "surfboard")),
}  # fmt: skip

# camera word: (short-term effect, probability weight for landscape-like topics, for others)
_CAMERA = {
    "close-up": (0.4, 0.2, 1.0), "zoom-in": (0.1, 0.5, 1.0), "handheld": (0.1, 0.3, 1.0),
    "slow-motion": (0.0, 1.0, 1.0), "tracking-shot": (0.0, 0.5, 0.8), "pan": (-0.1, 1.0, 0.6),
    "tilt-down": (-0.1, 1.0, 0.6), "crane-shot": (-0.2, 1.0, 0.4), "aerial-shot": (-0.5, 2.0, 0.2),
    "time-lapse": (-0.6, 2.0, 0.2),
}  # fmt: skip
_OUTDOOR = ("landscape", "sky", "water", "city")
_ANIMATE = ("people", "face", "animals")
_ADJECTIVES = {
    True: ("young", "beautiful", "old", "happy", "little", "senior", "cute"),
    False: ("beautiful", "green", "blue", "dark", "bright", "big", "empty"),
}
_VERBS = ("walking", "sitting", "running", "talking", "playing", "working", "looking", "standing", "moving")
_LINKS = ("on", "in", "at", "with", "near", "over", "of", "and")
_TAGS = ("4k", "hd", "footage", "view", "shot")


def _object_links(n_objects):
    """For each topic, the column indices of the objects a detector finds in such clips."""
    index = {name: i for i, name in enumerate(COCO_OBJECTS[:n_objects])}
    return {topic: [index[o] for o in spec[4] if o in index] for topic, spec in TOPICS.items()}


def _caption(rng, topics, camera):
    words = []
    for k, topic in enumerate(topics):
        if rng.uniform() > 0.85:  # captions leave some of the content unsaid
            continue
        if words:
            words.append(rng.choice(_LINKS))
        if rng.uniform() < 0.4:
            words.append(rng.choice(_ADJECTIVES[topic in _ANIMATE]))
        words.append(rng.choice(TOPICS[topic][3]))
        if k == 0 and topic in _ANIMATE and rng.uniform() < 0.6:
            words.append(rng.choice(_VERBS))
    if not words or rng.uniform() < 0.3:
        words.append(rng.choice(_TAGS))
    if camera is not None:
        words.append(camera)
    slug = "-".join(words)
    return "-" + slug if rng.uniform() < 0.02 else slug


def _clip_scores(rng, true, n_annotations, low, high):
    """Observed scores: the true rate plus the binomial noise of ``n_annotations`` viewers."""
    rate = np.clip(true, 0.01, 0.99)
    observed = rate + rng.normal(size=true.shape) * np.sqrt(rate * (1 - rate) / n_annotations)
    return np.round(np.clip(observed, low, high), 3)


def make_multimodal_memorability(n_samples=1000, *, n_objects=80, random_state=None):
    """Clips described by a caption and object-detector scores, with planted memorability.

    Mimics the MediaEval 2018 dev set: stock-footage caption slugs, 80 COCO
    object scores per clip, short-term scores near 0.86 and noisier long-term
    scores. Each clip shows one to three *topics* (drawn by frequency). The
    planted relations:

    - **Topics** move memorability. A clip's topic part is 0.7 x the sum of
      its topic shares times the topic's effect (``TOPICS[topic][1]``):
      faces +0.8, text +0.7, animals +0.6, people +0.5, food +0.2,
      vehicles 0, city -0.1, landscapes -0.6, water -0.6, sky -0.7. Both
      modalities see topics: the caption names each with probability 0.85,
      and a topic's objects (``TOPICS[topic][4]``, e.g. person, dog, boat)
      are detected with high scores.
    - **Camera words** (captions only): 1.3 x the word's effect, from
      ``close-up`` +0.4 to ``time-lapse`` -0.6; 70 % of captions end with
      one, aerial shots and time-lapses mostly over outdoor topics.
    - **Prominence** (objects only): a value ``p`` in [0, 1] per clip adds
      ``p - 0.5`` in clips with people, faces, animals or text, and sets
      the detector's confidence in its objects: ``(0.45 + 0.5 p (0.5 +
      share) + noise)**2``, clipped to [0.04, 1].
    - **Unobserved** factors: Gaussian, sd 0.4 (about as large as the
      visible part).

    The latent sum, divided by 0.62, sets a true short-term rate
    ``0.86 + 0.055 x latent``; the observed ``short_term`` adds the
    binomial noise of its 30-45 annotations, rounded to 3 decimals and
    clipped to [0.39, 0.99] (mean ~0.86, sd ~0.08). The true long-term rate
    ``0.78 + 0.075 x long_latent`` mixes 0.55 x the short-term latent with
    the topics' long-term effects (``TOPICS[topic][2]``), half the camera
    effect and its own unobserved factor; ``long_term`` adds the noise of
    only 8-14 annotations, clipped to [0, 1] (sd ~0.145; Spearman with
    ``short_term`` ~0.3). Absent objects score near 0 (Beta(0.3, 300)),
    with 0.5 % false positives up to 0.4.

    Parameters
    ----------
    n_samples : int, default=1000
    n_objects : int, default=80
        Object-score columns: the first ``n_objects`` COCO classes (beyond 80,
        extra columns of pure detector noise).
    random_state : int, RandomState or None

    Returns
    -------
    Bunch
        ``frame`` (video, caption, obj_0 ... obj_<n_objects-1>, short_term,
        n_short_annotations, long_term, n_long_annotations), ``captions``,
        ``objects`` (ndarray (n, n_objects)), ``object_names``,
        ``short_term``, ``long_term``, ``feature_columns`` (``{"objects":
        [...]}``) and ``topics`` (DataFrame of each clip's topic weights:
        the planted content, for inspection).
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    n_objects = check_positive_int(n_objects, "n_objects")
    rng = check_random_state(random_state)
    names = list(TOPICS)
    frequency = np.array([TOPICS[t][0] for t in names])
    links = _object_links(n_objects)
    salient = ("people", "face", "animals", "text")
    objects = rng.beta(0.3, 300, size=(n_samples, n_objects))
    false_positive = rng.uniform(size=objects.shape) < 0.005
    objects[false_positive] = 0.4 * rng.beta(2, 5, size=int(false_positive.sum()))
    weights = np.zeros((n_samples, len(names)))
    captions, camera_effect, prominence_effect = [], np.zeros(n_samples), np.zeros(n_samples)
    cameras = list(_CAMERA)
    for i in range(n_samples):
        chosen = list(rng.choice(names, size=rng.choice([1, 2, 3], p=[0.4, 0.4, 0.2]), replace=False,
                                 p=frequency / frequency.sum()))
        share = rng.dirichlet(np.ones(len(chosen)) * 2)
        share = np.sort(share)[::-1]  # the first topic named is the main one
        for topic, w in zip(chosen, share):
            weights[i, names.index(topic)] = w
        camera = None
        if rng.uniform() < 0.7:
            outdoor = chosen[0] in _OUTDOOR
            p = np.array([_CAMERA[c][1 if outdoor else 2] for c in cameras])
            camera = cameras[rng.choice(len(cameras), p=p / p.sum())]
            camera_effect[i] = _CAMERA[camera][0]
        captions.append(_caption(rng, chosen, camera))
        prominence = rng.uniform()
        if any(t in salient for t in chosen):
            prominence_effect[i] = prominence - 0.5
        for topic, w in zip(chosen, share):
            for rank, column in enumerate(links[topic]):
                if rng.uniform() < (0.9 if rank == 0 else 0.35) * min(1.0, 0.5 + w):
                    strength = 0.45 + 0.5 * prominence * (0.5 + w) + rng.normal(0, 0.05)
                    confidence = float(np.clip(strength, 0.2, 1.0)) ** 2
                    objects[i, column] = max(objects[i, column], confidence)
    short_effects = np.array([TOPICS[t][1] for t in names])
    long_effects = np.array([TOPICS[t][2] for t in names])
    visible = 0.7 * weights @ short_effects + 1.3 * camera_effect + prominence_effect
    hidden = rng.normal(0, 0.4, n_samples)
    latent = (visible + hidden) / 0.62
    long_latent = (0.55 * latent + (weights @ long_effects + 0.5 * camera_effect) / 0.6
                   + rng.normal(0, 0.55, n_samples)) / 1.25  # fmt: skip
    n_short = rng.randint(30, 46, n_samples)
    n_long = rng.randint(8, 15, n_samples)
    short_term = _clip_scores(rng, 0.86 + 0.055 * latent, n_short, 0.39, 0.99)
    long_term = _clip_scores(rng, 0.78 + 0.075 * long_latent, n_long, 0.0, 1.0)
    columns = [f"obj_{j}" for j in range(n_objects)]
    frame = pd.concat(
        [
            pd.DataFrame({"video": [f"video{i + 1}.webm" for i in range(n_samples)], "caption": captions}),
            pd.DataFrame(objects, columns=columns),
            pd.DataFrame({"short_term": short_term, "n_short_annotations": n_short,
                          "long_term": long_term, "n_long_annotations": n_long}),
        ],
        axis=1,
    )  # fmt: skip
    object_names = [COCO_OBJECTS[j] if j < len(COCO_OBJECTS) else f"object_{j}" for j in range(n_objects)]
    return Bunch(
        frame=frame,
        captions=np.asarray(captions, dtype=object),
        objects=objects,
        object_names=object_names,
        short_term=short_term,
        long_term=long_term,
        feature_columns={"objects": columns},
        topics=pd.DataFrame(weights, columns=names, index=frame["video"]),
    )
