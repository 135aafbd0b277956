"""PyTorch reference for `bench blas`: LLGAE epochs in the fast formulation of
stages/train/model.ts (x·W_k for every k, Gram matrices, the T encoder steps folded into one
E×E matrix per component), RMSprop(lr 1e-3) with PyTorch's defaults, on 60,000 seeded random
images (0-255 scale, each centred on its own mean), K=11 E=20 T=5 batch 360, 2 threads.
Prints one JSON line: {"torch": version, "threads": n, "epoch_seconds": [...]}.

Run: python3 bench/torch_llgae_epoch.py [epochs]
"""
import json
import sys
import time

import numpy as np
import torch


def loss(mu, W, x, steps=5, beta=0.01, decay=1.0):
    K, D, E = W.shape
    eye = torch.eye(E)
    P = torch.matmul(x, W) - torch.matmul(mu.unsqueeze(1), W)  # [K,B,E]
    C = torch.matmul(W.transpose(1, 2), W)
    A = (1 - beta * decay) * eye - beta * C
    S = eye.expand(K, E, E)
    for _ in range(steps - 1):
        S = eye + torch.matmul(A, S)
    Q = 2 * beta * S - beta * beta * torch.matmul(S, torch.matmul(C, S))
    x_mu = (x * x).sum(1, keepdim=True) - 2 * x @ mu.T + (mu * mu).sum(1)  # [B,K]
    err = x_mu.T - (P * torch.matmul(P, Q)).sum(2)  # [K,B]
    choice = err.argmin(0)
    chosen = err.gather(0, choice.unsqueeze(0)).squeeze(0)
    return chosen.mean() / D


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(2)
    rng = np.random.default_rng(7)
    n, D, K, E, batch = 60000, 784, 11, 20, 360
    images = rng.integers(0, 256, size=(n, D)).astype(np.float32)
    images -= images.mean(1, keepdims=True)
    x_all = torch.from_numpy(images)
    mu = torch.nn.Parameter(torch.from_numpy(rng.uniform(-1, 1, (K, D)).astype(np.float32)))
    W = torch.nn.Parameter(torch.from_numpy(rng.uniform(-0.05, 0.05, (K, D, E)).astype(np.float32)))
    opt = torch.optim.RMSprop([mu, W], lr=1e-3)

    def step(rows):
        opt.zero_grad()
        value = loss(mu, W, x_all[rows])
        value.backward()
        opt.step()
        return value.item()

    order = torch.from_numpy(rng.permutation(n))
    for s in range(5):  # warm-up
        step(order[s * batch:(s + 1) * batch])
    seconds = []
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(n))
        t0 = time.perf_counter()
        for s in range(0, n, batch):
            step(order[s:s + batch])
        seconds.append(time.perf_counter() - t0)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "epoch_seconds": seconds}))


if __name__ == "__main__":
    main()
