#!/usr/bin/env python3
"""The serving benchmark's peer: scikit-learn logistic regression (standardized) on breast_cancer.csv, served by
FastAPI + uvicorn (Debian packages python3-sklearn, python3-pandas, python3-fastapi, python3-uvicorn) with the same
request and response shape as Lepton's predict endpoint.

usage: python3 -m uvicorn --app-dir scripts sklearn_serve:app --port 8000 --workers 2   (DATA=path/to/breast_cancer.csv)
"""
import os

import numpy as np
import pandas as pd
from fastapi import FastAPI, Request
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

data = pd.read_csv(os.environ.get("DATA", "breast_cancer.csv"))
label = data.pop("malignant").astype(str)
columns = list(data.columns)
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(data.to_numpy(dtype=float), label)
classes = list(model.classes_)

app = FastAPI()


@app.post("/predict")
async def predict(request: Request):
    body = await request.json()
    X = np.array([[row[c] for c in columns] for row in body["rows"]], dtype=float)
    probabilities = model.predict_proba(X)
    scores = model.decision_function(X)
    return {
        "model": "sklearn-lr",
        "version": 1,
        "predictions": [
            {"label": classes[int(np.argmax(p))], "score": float(s), "probabilities": dict(zip(classes, map(float, p)))}
            for p, s in zip(probabilities, scores)
        ],
    }
