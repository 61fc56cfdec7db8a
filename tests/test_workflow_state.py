"""Random workflows of the command line, with invariants checked after every step.

A hypothesis state machine drives ``skmem extract / fit / cv / tune /
predict`` in-process over generated folders of clips whose names overlap
between folders and are odd (spaces, commas, accents, a ``.tmp-`` prefix,
digits only), with labels spelling the clip ids in several ways, reruns and
runs interrupted by Ctrl-C. After every step:

- no input file (clip, labels) changed or vanished;
- a command that was interrupted never exits 0, and leaves its output as it was;
- a refused command (exit status 2) changes no file;
- a model fitted by ``skmem fit`` on a folder's labels is the model fitted
  directly on those clips' own features (the features of clip X are X's);
- ``skmem cv`` reports the scores of a direct cross-validation on them;
- a run file has one row per clip, each scored from that clip's features.

The reference features of every clip come from one direct extraction of the
clip pool. The budget is small (a few short examples) so the test stays
well under a minute.
"""

import contextlib
import csv
import hashlib
import io
import json
import shutil
import tempfile
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test,
)

from skmem.cli import main
from skmem.datasets import make_memorability_videos
from skmem.datasets.feature_folder import read_feature_folder
from skmem.ids import clip_id

POOL = 5
FEATURES = ["--backbone", "resnet18", "--weights", "none", "--frames", "2", "--device", "cpu", "--jobs", "0"]
NAMES = ["video1.webm", "video2.webm", "video 3.webm", "clip,4.webm", "vidéo5.webm", ".tmp-6.webm", "0007.webm"]
SPELLINGS = {
    "file": lambda name: name,
    "stem": lambda name: name.rsplit(".", 1)[0],
    "path": lambda name: f"../elsewhere/{name}",
}


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    """Clips of distinct content, their scores, and their reference features (one direct extraction)."""
    folder = tmp_path_factory.mktemp("pool")
    make_memorability_videos(POOL, folder, n_seconds=1, size=(48, 48), fps=6, random_state=1)
    reference = tmp_path_factory.mktemp("reference")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["extract", str(folder), "--out", str(reference), *FEATURES]) == 0
        names = [f"video{i}.webm" for i in range(1, POOL + 1)]
        features, _ = read_feature_folder(reference, names)
    scores = pd.read_csv(folder / "ground-truth.csv").set_index("video").loc[names, "short-term_memorability"]
    return {"paths": [folder / n for n in names], "features": features, "scores": scores.to_numpy()}


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _snapshot(root):
    return {str(p): _digest(p) for p in sorted(Path(root).rglob("*")) if p.is_file()}


@contextlib.contextmanager
def _interrupt(target, attribute):
    """Ctrl-C at the first call of ``target.attribute``; yields a list that records whether it fired."""
    fired = []

    def interrupted(*args, **kwargs):
        fired.append(True)
        raise KeyboardInterrupt

    with mock.patch.object(target, attribute, interrupted):
        yield fired


def _ridge_model():
    from skmem.pipelines import make_model

    return make_model("ridge", 3, random_state=0)


class Workflow(RuleBasedStateMachine):
    """A user's workspace: clip folders with labels, two feature folders, models and run files.

    Every kind of step is taken: same-named clips of another folder
    extracted into one feature folder, ``.tmp-`` clip names, interrupted
    extractions and deep-model fits. Before the feature store keyed entries
    by clip identity and deep models honoured interrupts, these steps found
    three faults that exited 0: same-named clips of another folder replaced
    a feature folder's entries (``cv``/``fit`` then used the other clips'
    features), a ``.tmp-`` clip had no entry for ``cv``/``fit``/``predict``,
    and an interrupted LSTM ``fit`` saved the half-trained model.
    """

    folders = Bundle("folders")
    models = Bundle("models")
    names = NAMES

    def __init__(self, pool, scratch):
        super().__init__()
        self.pool = pool
        self.root = Path(tempfile.mkdtemp(dir=scratch, prefix="workspace "))
        self.clips = {}  # folder -> {file name: pool index}
        self.labels = {}  # folder -> labels file
        self.inputs = {}  # protected file -> digest
        self.feature_folders = [self.root / "features-a", self.root / "features-b"]
        self.extracted = {str(f): {} for f in self.feature_folders}  # feature folder -> {clip id: clip folder}
        self.count = 0

    # -- helpers ------------------------------------------------------------------------

    def _run(self, *argv):
        before = _snapshot(self.root)
        sink = io.StringIO()
        with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            status = main([str(a) for a in argv])
        if status == 2:
            assert _snapshot(self.root) == before, f"refused command changed files: {argv}"
        return status, before

    def _new(self, stem):
        self.count += 1
        return self.root / f"{stem}-{self.count}"

    def _features(self, source):
        """Feature folder ``source`` once something was extracted into it, else the first one."""
        folder = self.feature_folders[source]
        return folder if self.extracted[str(folder)] else self.feature_folders[0]

    def _record(self, features, folder):
        """``folder``'s clips now have entries in ``features``."""
        self.extracted[str(features)].update({clip_id(name): folder for name in self.clips[folder]})

    def _holds(self, features, folder):
        """Whether every clip of ``folder`` was extracted into ``features`` (and no other clip of its id since)."""
        extracted = self.extracted[str(features)]
        return all(extracted.get(clip_id(name)) == folder for name in self.clips[folder])

    def _reference(self, folder):
        """Reference features and scores of a folder's clips, in the order of its labels."""
        indices = list(self.clips[folder].values())
        return self.pool["features"][indices], self.pool["scores"][indices]

    # -- rules --------------------------------------------------------------------------

    @initialize(target=folders, data=st.data(), spelling=st.sampled_from(sorted(SPELLINGS)))
    def first_folder(self, data, spelling):
        folder = self.make_folder(data, spelling)
        self.extract(folder, 0, False)
        return folder

    @rule(target=folders, data=st.data(), spelling=st.sampled_from(sorted(SPELLINGS)))
    def make_folder(self, data, spelling, names=None):
        if names is None:
            names = data.draw(st.lists(st.sampled_from(self.names), min_size=4, max_size=4, unique=True))
        folder = self._new("clips, ünïcode")
        folder.mkdir()
        picks = data.draw(st.permutations(range(POOL)))[: len(names)]
        self.clips[folder] = dict(zip(names, picks))
        for name, index in self.clips[folder].items():
            shutil.copyfile(self.pool["paths"][index], folder / name)
        labels = self.root / f"labels-{self.count}.csv"
        with open(labels, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["video", "short-term_memorability", "nb_short-term_annotations",
                             "long-term_memorability", "nb_long-term_annotations"])
            for name, index in self.clips[folder].items():
                score = f"{self.pool['scores'][index]:.6f}"
                writer.writerow([SPELLINGS[spelling](name), score, 30, score, 10])
        self.labels[folder] = labels
        self.inputs.update({str(p): _digest(p) for p in [labels, *(folder / n for n in names)]})
        return folder

    @rule(folder=folders, target_index=st.integers(0, 1), interrupted=st.booleans())
    def extract(self, folder, target_index, interrupted):
        out = self.feature_folders[target_index]
        argv = ["extract", folder, "--out", out, *FEATURES]
        if interrupted:
            import torch

            with _interrupt(torch.nn.Conv2d, "forward") as fired:
                status, _ = self._run(*argv)
            assert not fired or status != 0, "an interrupted extraction exited 0"
            return
        status, _ = self._run(*argv)
        assert status == 0, f"extract {folder} -> {out} exited {status}"
        self._record(out, folder)

    @rule(target=folders, folder=folders, data=st.data(), spelling=st.sampled_from(sorted(SPELLINGS)))
    def same_names_elsewhere(self, folder, data, spelling):
        """Another folder with the same file names, other clips, extracted where ``folder`` was; then use ``folder``."""
        source = next((i for i, f in enumerate(self.feature_folders) if self._holds(f, folder)), None)
        other = self.make_folder(data, spelling, names=list(self.clips[folder]))
        self.extract(other, 0 if source is None else source, False)
        if source is not None:
            self.cv(folder, source)
        return other

    @rule(folder=folders, source=st.integers(0, 1))
    def interrupted_deep_fit(self, folder, source):
        import torch

        out = self._new("lstm").with_suffix(".skops")
        with _interrupt(torch.nn.LSTM, "forward") as fired:
            status, _ = self._run("fit", "--features", self._features(source), "--labels", self.labels[folder],
                                  "--target", "short", "--model", "lstm", "--set", "max_epochs=2",
                                  "--set", "hidden_size=4", "--device", "cpu", "--out", out)
        assert not fired or status != 0, "an interrupted deep-model fit exited 0"
        assert not fired or not out.exists(), "an interrupted deep-model fit saved a model"

    @rule(target=models, folder=folders, source=st.integers(0, 1), interrupted=st.booleans())
    def fit(self, folder, source, interrupted):
        out = self._new("model") .with_suffix(".skops")
        argv = ["fit", "--features", self._features(source), "--labels", self.labels[folder],
                "--target", "short", "--model", "ridge", "--out", out]
        if interrupted:
            from sklearn.linear_model import Ridge

            with _interrupt(Ridge, "fit") as fired:
                status, _ = self._run(*argv)
            assert not fired or status != 0, "an interrupted fit exited 0"
            assert not out.exists(), "an interrupted fit saved a model"
            return None
        status, _ = self._run(*argv)
        features = self._features(source)
        assert status == 0 or not self._holds(features, folder), f"fit on {folder.name} with {features.name} exited {status}"
        if status != 0:
            return None
        from skmem.persistence import load_model

        X, y = self._reference(folder)
        expected = _ridge_model().fit(X, y).predict(X)
        got = load_model(out).model.predict(X)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=f"fit on {folder}: not its clips' features")
        return out

    @rule(folder=folders, source=st.integers(0, 1))
    def cv(self, folder, source):
        from skmem.evaluation import cross_validation_table

        out = self._new("cv").with_suffix(".json")
        status, _ = self._run("cv", "--features", self._features(source), "--labels", self.labels[folder],
                              "--target", "short", "--models", "ridge", "--folds", "2", "--json", out)
        features = self._features(source)
        assert status == 0 or not self._holds(features, folder), f"cv on {folder.name} with {features.name} exited {status}"
        if status == 0:
            X, y = self._reference(folder)
            direct = cross_validation_table({"ridge": _ridge_model()}, X, y, cv=2, random_state=0)
            got = json.loads(out.read_text())["fold_scores"]["ridge"]["mse"]
            np.testing.assert_allclose(got, direct.fold_scores["ridge"]["mse"], rtol=1e-4, err_msg=f"cv on {folder}")

    @rule(folder=folders, source=st.integers(0, 1))
    def tune(self, folder, source):
        storage, out = self.root / "study.log", self._new("tuned").with_suffix(".skops")
        status, _ = self._run("tune", "--features", self._features(source), "--labels", self.labels[folder],
                              "--target", "short", "--model", "ridge", "--trials", "1", "--folds", "2",
                              "--storage", storage, "--plot", self._new("history").with_suffix(".png"), "--out", out)
        if status == 0:
            from skmem.persistence import load_model

            X, y = self._reference(folder)
            model = load_model(out).model
            expected = clone(model).fit(X, y).predict(X)
            np.testing.assert_allclose(model.predict(X), expected, rtol=1e-4, atol=1e-5, err_msg=f"tune on {folder}")

    @rule(model=models, folder=folders, cache=st.integers(0, 1))
    def predict_clips(self, model, folder, cache):
        if model is None:
            return
        out = self._new("run").with_suffix(".csv")
        status, _ = self._run("predict", model, folder, "--cache", self.feature_folders[cache], "--out", out,
                              "--device", "cpu", "--jobs", "0")
        if status != 0:
            assert not out.exists()
            return
        self._record(self.feature_folders[cache], folder)
        rows = list(csv.reader(out.open(encoding="utf-8")))
        names = [row[0] for row in rows]
        assert sorted(names) == sorted(self.clips[folder]), f"run file rows {names} vs clips {sorted(self.clips[folder])}"
        from skmem.persistence import load_model

        X = self.pool["features"][[self.clips[folder][n] for n in names]]
        expected = load_model(model).model.predict(X)
        np.testing.assert_allclose([float(row[1]) for row in rows], expected, atol=1e-5, err_msg="run-file scores")

    @rule(model=models, source=st.integers(0, 1))
    def predict_features(self, model, source):
        folder = self.feature_folders[source]
        if model is None or not self.extracted[str(folder)]:
            return
        out = self._new("run").with_suffix(".csv")
        status, _ = self._run("predict", model, folder, "--out", out)
        if status != 0:
            return
        names = [row[0] for row in csv.reader(out.open(encoding="utf-8"))]
        ids = [clip_id(n) for n in names]
        assert len(ids) == len(set(ids)), f"one clip on several run-file rows: {names}"
        assert set(ids) == set(self.extracted[str(folder)]), (
            f"run file rows {sorted(ids)} vs clips extracted into {folder.name}: {sorted(self.extracted[str(folder)])}"
        )

    @rule(folder=folders, model=models)
    def output_onto_an_input(self, folder, model):
        status, _ = self._run("fit", "--features", self.feature_folders[0], "--labels", self.labels[folder],
                              "--target", "short", "--model", "ridge", "--out", self.labels[folder])
        assert status == 2
        if model is not None:
            for out in (model, folder / next(iter(self.clips[folder]))):
                status, _ = self._run("predict", model, folder, "--out", out)
                assert status == 2

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def inputs_unchanged(self):
        for path, digest in self.inputs.items():
            assert Path(path).is_file(), f"input {path} vanished"
            assert _digest(path) == digest, f"input {path} changed"

    def teardown(self):
        shutil.rmtree(self.root, ignore_errors=True)


WORKFLOW_SETTINGS = settings(
    max_examples=5, stateful_step_count=12, deadline=None, derandomize=True, database=None,
    phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False, suppress_health_check=list(HealthCheck),
)


def test_random_workflows_keep_the_invariants(pool, tmp_path):
    run_state_machine_as_test(lambda: Workflow(pool, tmp_path), settings=WORKFLOW_SETTINGS)
