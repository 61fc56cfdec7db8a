"""
When the order of frames matters: LSTM against temporal pooling
================================================================

Pooling frame features over time (mean, max, mean and standard deviation)
forgets their order. When memorability depends on *how a clip unfolds* —
here, whether one feature rises or falls from the first half of the clip to
the second — a pooled model cannot see it, while
:class:`~skmem.LSTMRegressor`, which reads the frames in order, can.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmem import LSTMRegressor, TemporalPooling, spearman_score

# %%
# Sequences with an order-dependent target
# ----------------------------------------
# 400 clips of 6 frames with 8 features each. The target is the rise of
# feature 0 from the first three frames to the last three, plus noise:
# shuffling the frames of a clip would change its target, but not its mean,
# maximum or spread over time.
rng = np.random.default_rng(0)
X = rng.normal(size=(400, 6, 8)).astype(np.float32)
y = X[:, 3:, 0].mean(axis=1) - X[:, :3, 0].mean(axis=1) + rng.normal(0, 0.2, 400)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

# %%
# Pooled models and the LSTM
# --------------------------
rho = {}
for method in ("mean", "max", "meanstd"):
    pooled = make_pipeline(TemporalPooling(method), StandardScaler(), RidgeCV()).fit(X_train, y_train)
    rho[f"pool {method}\n+ ridge"] = spearman_score(y_test, pooled.predict(X_test))
lstm = LSTMRegressor(hidden_size=16, max_epochs=15, lr=1e-2, batch_size=32, dropout=0.0, random_state=0)
lstm.fit(X_train, y_train)
rho["LSTM"] = spearman_score(y_test, lstm.predict(X_test))
for name, value in rho.items():
    print(f"{name.replace(chr(10), ' '):>22}: rho = {value:.3f}")

# %%
# The pooled models score near zero on held-out clips: the signal is not in
# any summary that forgets the order. The LSTM recovers it. The validation
# Spearman it reports each epoch (``history_``) shows it learning. On real
# MediaEval clips the order of frames carried little signal: the 2018 LSTM
# (ρ = 0.484 short-term) barely beat pooled features; this example shows the
# case where it would matter.
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
left.bar(list(rho), list(rho.values()), color=["C0", "C0", "C0", "C1"])
left.set_ylabel("Spearman ρ on held-out clips")
left.axhline(0, color="grey", lw=0.8)
right.plot([row["valid_spearman"] for row in lstm.history_], "o-", color="C1")
right.set_xlabel("epoch")
right.set_ylabel("validation Spearman ρ")
right.set_title("LSTM training")
fig.tight_layout()
