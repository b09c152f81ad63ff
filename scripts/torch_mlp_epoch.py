#!/usr/bin/python3
"""PyTorch peer of `./lepton bench network` (Debian's python3-torch): one epoch of the same MLP on the same shape of data.

usage: torch_mlp_epoch.py [ROWS] [THREADS] [EPOCHS]
"""
import sys
import time

import numpy as np
import torch

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
torch.set_num_threads(threads)
torch.manual_seed(1)
rng = np.random.default_rng(1)
x = rng.uniform(-1, 1, size=(rows, 50)).astype(np.float32)
weights = np.array([1.0 if d % 3 == 0 else -0.5 for d in range(50)], dtype=np.float32)
y = (x @ weights > 0).astype(np.float32).reshape(-1, 1)
X, Y = torch.from_numpy(x), torch.from_numpy(y)
model = torch.nn.Sequential(torch.nn.Linear(50, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
loss_fn = torch.nn.BCEWithLogitsLoss()
print(f"PyTorch {torch.__version__}, {threads} threads, MLP 50-256-256-1, {rows:,} rows, batch 256, Adam")
for epoch in range(epochs):
    order = torch.randperm(rows)
    start = time.perf_counter()
    for i in range(0, rows, 256):
        batch = order[i:i + 256]
        optimizer.zero_grad()
        loss = loss_fn(model(X[batch]), Y[batch])
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - start
    print(f"epoch {epoch + 1}: {seconds:.2f} s, {rows / seconds:,.0f} samples/s")
