#!/usr/bin/env python3
"""The scikit-learn side of docs/benchmarks.md (Debian's python3-sklearn, python3-pandas).

usage: sklearn_reference.py FILE LABEL TASK [FOLDS_FILE]

Without FOLDS_FILE: scikit-learn defaults, 5-fold cross_validate on the raw file (how the reference scores in
shared/data/README.md were made). With FOLDS_FILE (written by `./lepton bench quality ... --folds-out F`): the same
models on Lepton's curated rows and Lepton's exact folds, for a like-for-like comparison.
"""
import sys

import numpy as np
import pandas as pd
from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import PredefinedSplit, cross_validate
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline as sklearn_make_pipeline
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

path, label, task = sys.argv[1], sys.argv[2], sys.argv[3]
folds_file = sys.argv[4] if len(sys.argv) > 4 else None

data = pd.read_csv(folds_file or path)
cv = 5
if folds_file:
    cv = PredefinedSplit(data.pop("__fold").to_numpy())
y = data.pop(label)
numeric = data.select_dtypes(include=[np.number, bool]).columns
# Text columns with few distinct values are categories (as Lepton's schema inference treats them); free text is dropped.
categorical = [c for c in data.columns if c not in numeric and data[c].nunique() <= max(100, 0.05 * len(data))]
X = data[list(numeric) + categorical]
X = X.astype({c: float for c in numeric})


def make_pipeline(*steps):
    """Imputes and one-hot encodes first, so every model gets numeric, complete input (trees too)."""
    encode = make_column_transformer((SimpleImputer(), list(numeric)),
                                     (OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical))
    return sklearn_make_pipeline(encode, *steps)

if task == "regression":
    y = y.astype(float)
    models = {
        "ridge (standardized)": make_pipeline(StandardScaler(), Ridge()),
        "random forest": make_pipeline(RandomForestRegressor(random_state=0)),
        "gradient boosting": make_pipeline(GradientBoostingRegressor(random_state=0)),
        "MLP 100 (standardized, defaults)": make_pipeline(StandardScaler(), MLPRegressor(random_state=0)),
        "MLP 64 (standardized)": make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(64,), random_state=0)),
        "MLP 128x64 (standardized)": make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(128, 64), random_state=0)),
    }
    scoring = {"r2": "r2", "rmse": "neg_root_mean_squared_error"}
else:
    y = y.astype(str)
    models = {
        "logistic regression (standardized)": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "random forest": make_pipeline(RandomForestClassifier(random_state=0)),
        "gradient boosting": make_pipeline(GradientBoostingClassifier(random_state=0)),
        "MLP 100 (standardized, defaults)": make_pipeline(StandardScaler(), MLPClassifier(random_state=0)),
        "MLP 64 (standardized)": make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), random_state=0)),
        "MLP 128x64 (standardized)": make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(128, 64), random_state=0)),
    }
    scoring = {"accuracy": "accuracy", "auc": "roc_auc"} if task == "binary" else {"accuracy": "accuracy", "macroF1": "f1_macro"}

print(f"| scikit-learn {__import__('sklearn').__version__} ({'Lepton folds' if folds_file else 'defaults, raw file'}) | "
      + " | ".join(scoring) + " |")
for name, model in models.items():
    scores = cross_validate(model, X, y, cv=cv, scoring=scoring)
    cells = []
    for metric in scoring:
        values = scores[f"test_{metric}"]
        values = -values if metric == "rmse" else values
        cells.append(f"{values.mean():.4f} ± {values.std(ddof=1):.4f}")
    print(f"| {name} | " + " | ".join(cells) + " |")
