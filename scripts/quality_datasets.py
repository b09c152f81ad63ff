#!/usr/bin/env python3
"""Writes the data sets of docs/benchmarks.md's quality table that are not in ../shared/data (Debian's python3-sklearn,
python3-pandas; fixed seeds, so every run writes the same files).

usage: quality_datasets.py OUT_DIR

Then, per file: ./lepton bench quality FILE LABEL TASK --folds-out F, and scripts/sklearn_reference.py FILE LABEL TASK F.
Labels and tasks: iris species multiclass, wine cultivar multiclass, synth3/synth5/synth8 label multiclass,
skewbin label binary, mixed outcome binary, friedman/linreg target regression.
"""
import os
import sys

import numpy as np
import pandas as pd
from sklearn import datasets

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def save(name, X, y, columns=None, label="label"):
    frame = pd.DataFrame(X, columns=columns or [f"f{i}" for i in range(X.shape[1])])
    frame[label] = y
    frame.to_csv(os.path.join(out, f"{name}.csv"), index=False)


iris = datasets.load_iris()
save("iris", iris.data, [iris.target_names[t] for t in iris.target],
     [c.replace(" ", "_").replace("(", "").replace(")", "") for c in iris.feature_names], "species")
wine = datasets.load_wine()
save("wine", wine.data, [f"c{t}" for t in wine.target], [c.replace("/", "_") for c in wine.feature_names], "cultivar")

X, y = datasets.make_classification(n_samples=1500, n_features=10, n_informative=5, n_classes=3, n_clusters_per_class=2,
                                    class_sep=0.8, random_state=11)
save("synth3", X, [f"k{t}" for t in y])
X, y = datasets.make_classification(n_samples=3000, n_features=20, n_informative=8, n_redundant=4, n_classes=5,
                                    weights=[0.5, 0.2, 0.15, 0.1, 0.05], flip_y=0.02, random_state=7)
save("synth5", X, [f"k{t}" for t in y])
X, y = datasets.make_classification(n_samples=4000, n_features=30, n_informative=12, n_redundant=6, n_classes=8,
                                    n_clusters_per_class=1, class_sep=1.2, flip_y=0.03, random_state=21)
X[:, 3] = X[:, 3] * 100 + 1000  # one feature far from zero
save("synth8", X, [f"k{t}" for t in y])
X, y = datasets.make_classification(n_samples=2000, n_features=15, n_informative=6, n_classes=2, weights=[0.9, 0.1],
                                    flip_y=0.01, random_state=3)
save("skewbin", X, y.astype(bool))

rng = np.random.default_rng(5)
n = 2500
a, b = rng.normal(size=n), rng.normal(size=n)
color = rng.choice(["red", "green", "blue", "grey"], n)
zone = rng.choice([f"z{i}" for i in range(30)], n)
logit = 1.5 * a - b + (color == "red") * 1.2 - (color == "blue") * 0.8 + np.array([int(z[1:]) % 3 for z in zone]) * 0.6 - 0.5
outcome = rng.random(n) < 1 / (1 + np.exp(-logit))
pd.DataFrame({"a": a * 10 + 500, "b": b, "color": color, "zone": zone, "outcome": outcome}).to_csv(
    os.path.join(out, "mixed.csv"), index=False)

X, y = datasets.make_friedman1(n_samples=2000, noise=1.0, random_state=4)
save("friedman", X, y, label="target")
X, y = datasets.make_regression(n_samples=1500, n_features=20, n_informative=10, noise=20, random_state=9)
save("linreg", X, y, label="target")
