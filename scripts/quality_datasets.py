#!/usr/bin/env python3
"""Writes the data sets of docs/benchmarks.md's quality table that are not in ../shared/data (Debian's python3-sklearn,
python3-pandas; fixed seeds, so every run writes the same files).

usage: quality_datasets.py OUT_DIR

Then, per file: ./lepton bench quality FILE LABEL TASK --folds-out F, and scripts/sklearn_reference.py FILE LABEL TASK F.
Labels and tasks: iris species multiclass, wine cultivar multiclass, synth3/synth5/synth8 label multiclass,
skewbin label binary, mixed outcome binary, friedman/linreg target regression; hastie label binary,
gquant/noisy4 label multiclass, mixed3 tier multiclass; letters letter multiclass, census income binary;
rare8 site multiclass.
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

# Four more, added after the twelve above were measured, as data the candidates had not been chosen on: Hastie's
# 10-feature binary problem, three classes by distance from the centre, four noisy classes among 25 mostly irrelevant
# features, and a three-level outcome from numbers (with gaps) and two categories.
X, y = datasets.make_hastie_10_2(n_samples=2000, random_state=3)
save("hastie", X, ["pos" if v > 0 else "neg" for v in y])
X, y = datasets.make_gaussian_quantiles(n_samples=1200, n_features=6, n_classes=3, random_state=5)
save("gquant", X, [f"q{t}" for t in y])
X, y = datasets.make_classification(n_samples=2500, n_features=25, n_informative=5, n_redundant=2, n_classes=4, flip_y=0.1,
                                    class_sep=1.0, random_state=21)
save("noisy4", X, [f"c{t}" for t in y])
rng = np.random.default_rng(9)
n = 3000
age = rng.integers(18, 90, n).astype(float)
income = rng.lognormal(10, 0.6, n)
region = rng.choice(["n", "s", "e", "w", "c"], n, p=[.3, .25, .2, .15, .1])
plan = rng.choice(["basic", "plus", "pro"], n)
visits = rng.poisson(3, n).astype(float)
score = (0.03 * (age - 50) + 0.8 * np.log(income / 22000) + np.where(region == "s", 0.7, 0)
         + np.where(plan == "pro", 1.0, np.where(plan == "plus", 0.4, 0)) + 0.25 * visits + rng.normal(0, 1, n))
tier = np.where(score > 2.2, "high", np.where(score > 0.6, "mid", "low"))
income[rng.random(n) < 0.08] = np.nan
age[rng.random(n) < 0.05] = np.nan
pd.DataFrame({"age": age, "income": income, "region": region, "plan": plan, "visits": visits, "tier": tier}).to_csv(
    os.path.join(out, "mixed3.csv"), index=False)

# Two more, added with the mlp-100 candidate: 26 classes (like letter recognition) and a census-like income label.
X, y = datasets.make_classification(n_samples=5200, n_features=16, n_informative=12, n_redundant=2, n_classes=26,
                                    n_clusters_per_class=1, class_sep=1.5, random_state=31)
save("letters", X, [chr(65 + t) for t in y], label="letter")
rng = np.random.default_rng(77)
n = 4000
education = rng.choice(["hs", "college", "bachelor", "master", "phd"], n, p=[.35, .25, .25, .1, .05])
job = rng.choice([f"j{i}" for i in range(12)], n)
married = rng.choice(["yes", "no"], n)
hours = rng.normal(40, 10, n).clip(5, 90)
age = rng.integers(18, 75, n).astype(float)
level = {"hs": -1, "college": -.4, "bachelor": .3, "master": .8, "phd": 1.2}
z = (np.array([level[e] for e in education]) + np.array([(int(j[1:]) % 4 - 1.5) * 0.5 for j in job])
     + np.where(married == "yes", .7, 0) + 0.04 * (hours - 40) + 0.03 * (age - 45) - 0.2 * ((age - 45) / 15) ** 2
     + rng.normal(0, 1, n))
income = np.where(z > 0.6, "high", "low")
hours[rng.random(n) < 0.05] = np.nan
pd.DataFrame({"age": age, "education": education, "job": job, "married": married, "hours": hours, "income": income}).to_csv(
    os.path.join(out, "census.csv"), index=False)

# One with classes rarer than the folds (like UCI's ecoli: 336 rows, 8 classes of 143 down to 2 rows), measured when
# training stopped refusing such labels.
counts = [143, 77, 52, 35, 20, 5, 2, 2]
X, y = datasets.make_classification(n_samples=sum(counts), n_features=7, n_informative=5, n_redundant=1, n_classes=8,
                                    n_clusters_per_class=1, weights=[c / sum(counts) for c in counts], flip_y=0,
                                    class_sep=1.5, random_state=13)
save("rare8", X, [f"r{t}" for t in y], label="site")
