"""
Learning to rank: RankNet, a pairwise comparator, and cycles
============================================================

Spearman's ρ only looks at the order of the predictions, so a model can learn
the order directly from pairs of clips: "is A more memorable than B?".
:class:`~skmem.PairwiseRanker` offers two designs:

- ``method="ranknet"`` learns a score ``s(x)`` per clip from the pairs;
  ordering clips by ``s`` is transitive by construction;
- ``method="comparator"`` (the 2018 design) learns ``P(A > B)`` from the
  concatenated pair. Nothing forces its answers to agree with each other:
  it can say A > B, B > C and C > A. Its scores are therefore votes against
  reference clips (Borda: mean win probability; Copeland: share of wins),
  which cope with such cycles where the 2018 topological sort failed.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmem import PairwiseRanker, spearman_score
from skmem.datasets import make_multimodal_memorability

# %%
# Data: 500 generated clips, each described by 80 object-detector scores.
data = make_multimodal_memorability(500, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(data.objects, data.short_term, test_size=0.2, random_state=0)

common = dict(hidden_sizes=(32,), dropout=0.2, max_epochs=15, lr=3e-3, batch_size=64, random_state=0)
models = {
    "RankNet": make_pipeline(StandardScaler(), PairwiseRanker("ranknet", **common)),
    "comparator\n(Borda)": make_pipeline(StandardScaler(), PairwiseRanker("comparator", vote="borda", **common)),
    "comparator\n(Copeland)": make_pipeline(
        StandardScaler(), PairwiseRanker("comparator", vote="copeland", **common)
    ),
}
rho = {}
for name, model in models.items():
    model.fit(X_train, y_train)
    rho[name] = spearman_score(y_test, model.predict(X_test))
    print(f"{name.replace(chr(10), ' '):>22}: rho = {rho[name]:.3f}")

# %%
# Counting cycles
# ---------------
# Ask the comparator about every pair of the 100 test clips and call A the
# winner when ``P(A > B)`` and ``1 - P(B > A)`` average above one half. In a
# tournament where clip ``i`` wins ``w_i`` times, the number of cyclic
# triples (A > B > C > A) is ``C(n, 3) - sum_i C(w_i, 2)``; it is zero
# exactly when the answers form one consistent order, as RankNet's scores
# always do.
def cyclic_triples(wins):
    n, w = len(wins), wins.sum(axis=1)
    return n * (n - 1) * (n - 2) // 6 - int((w * (w - 1) // 2).sum())


comparator = models["comparator\n(Borda)"]
items = torch.from_numpy(comparator[:-1].transform(X_test).astype(np.float32))
network = comparator[-1].net_.module_.eval()
with torch.no_grad():
    p = torch.sigmoid(network.compare(items, items)).numpy()
p_win = (p + 1 - p.T) / 2
wins = (p_win > 0.5) & ~np.eye(len(p), dtype=bool)
ranknet = models["RankNet"]
s = ranknet[-1].net_.rank_scores(ranknet[:-1].transform(X_test).astype(np.float32))
cycles = {"comparator": cyclic_triples(wins), "RankNet": cyclic_triples(s[:, None] > s[None, :])}
n = len(p)
print(f"cyclic triples among {n * (n - 1) * (n - 2) // 6} triples: {cycles}")

# %%
# Left: both designs order held-out clips; here on 400 training clips. Right:
# the comparator's win probabilities, clips sorted by their true
# memorability. A perfectly consistent comparator would be one colour below
# the diagonal and the other above it; every speck out of place can close a
# cycle.
order = np.argsort(y_test)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.bar(list(rho), list(rho.values()), color=["C1", "C0", "C0"])
left.set_ylabel("Spearman ρ on held-out clips")
image = right.imshow(p_win[np.ix_(order, order)], cmap="coolwarm", vmin=0, vmax=1)
right.set_xlabel("clip B (by true memorability)")
right.set_ylabel("clip A (by true memorability)")
right.set_title(f"comparator P(A > B): {cycles['comparator']} cyclic triples", fontsize=10)
fig.colorbar(image, ax=right)
fig.tight_layout()
