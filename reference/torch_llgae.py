#!/usr/bin/env python3
"""A PyTorch reference trainer for LLGAE/LGAE (CATSMILE-1022), written from the note's equations.

Model, per component k = 1..K: a mean mu_k (D) and loadings W_k (D x E). An image x is encoded
by T gradient steps from b_k(0) = 0 for every k,

    b_k(t) = b_k(t-1) + beta * (W_k^T (x - mu_k - W_k b_k(t-1)) - lam * b_k(t-1)),

the image goes to the component with the smallest squared error ||x - mu_k - W_k b_k||^2, its
reconstruction is x_hat = mu_k* + W_k* b_k*(T), and the loss is the mean of (x_hat - x)^2 over
pixels and batch; gradients flow through the T unrolled steps. Optimiser: torch.optim.RMSprop
(alpha 0.99, eps 1e-8 outside the square root) or, with --rmsprop tfjs, tfjs's variant
(eps inside the square root).

Two commands:

  steps DIR   reads DIR/mu.npy [K,D], DIR/W.npy [K,D,E], DIR/images.npy [N,D],
              DIR/order.npy int32 [epochs, M] (each epoch's image rows, cut into consecutive
              batches of batch_size, the last one shorter) and DIR/config.json ({steps, beta,
              latent_decay, lr, optimizer, batch_size}); runs the optimizer steps (with
              DIR/test_images.npy: prints the test MSE and usage after each epoch); writes
              DIR/torch_losses.json ({"losses": the loss of each step, before its update}),
              DIR/torch_mu.npy and DIR/torch_W.npy (after the last step).
  train       trains on Fashion-MNIST read from the idx files (--data DIR), PyTorch's default
              nn.Linear initialisation seeded by --seed, per-epoch shuffled batches; prints
              one JSON line per epoch (test MSE, component usage).

Needs python3-torch and python3-numpy (Debian); nothing of the project's TypeScript.
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch


def codes(mu, W, x, steps, beta, lam, choose_at):
    """b_k(t) for every k [K,B,E] after `steps` steps, and each component's squared error [B,K]
    at b(choose_at) (choose_at = steps: the final codes; steps - 1: the codes before the last
    step, as the note's own code compares them). The step is the note's equation with
    W_k^T (x - mu_k - W_k b) written as P_k - C_k b, P_k = W_k^T (x - mu_k), C_k = W_k^T W_k."""
    P = torch.einsum("bd,kde->kbe", x, W) - torch.einsum("kd,kde->ke", mu, W)[:, None, :]
    C = torch.bmm(W.transpose(1, 2), W)  # [K,E,E]
    b = torch.zeros_like(P)
    at = b
    for t in range(1, steps + 1):
        b = b + beta * (P - torch.bmm(b, C) - lam * b)  # b += beta (W_k^T (x - mu_k - W_k b) - lam b)
        if t == choose_at:
            at = b
    with torch.no_grad():  # ||x - mu_k - W_k b||^2 = ||x - mu_k||^2 - 2 b.P_k + b^T C_k b
        xx = x.square().sum(1)[None, :] - 2 * mu @ x.T + mu.square().sum(1)[:, None]
        err = xx - 2 * (at * P).sum(2) + (torch.bmm(at, C) * at).sum(2)  # [K,B]
    return b, err.T


def forward(mu, W, x, steps, beta, lam, choose_at):
    """Reconstruction x_hat [B,D] and chosen component [B]."""
    b, err = codes(mu, W, x, steps, beta, lam, choose_at)
    k = err.argmin(1).detach()
    rows = torch.arange(x.shape[0])
    x_hat = mu[k] + torch.bmm(W[k], b[k, rows][:, :, None])[:, :, 0]
    return x_hat, k


class RMSpropTfjs(torch.optim.Optimizer):
    """tfjs's RMSPropOptimizer (not centred, no momentum): v -= lr g / sqrt(ms + eps)."""

    def __init__(self, params, lr, alpha=0.99, eps=1e-8):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                ms = self.state[p].setdefault("ms", torch.zeros_like(p))
                ms.mul_(group["alpha"]).addcmul_(p.grad, p.grad, value=1 - group["alpha"])
                p.sub_(group["lr"] * p.grad / (ms + group["eps"]).sqrt())


def make_optimizer(name, params, lr):
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.99, eps=1e-8)
    if name == "rmsprop_tfjs":
        return RMSpropTfjs(params, lr=lr)
    raise SystemExit(f"optimizer must be rmsprop or rmsprop_tfjs, found {name!r}")


def score(mu, W, test, cfg, choose_at):
    """Test MSE (mean over images of the per-image mean squared pixel error) and usage."""
    with torch.no_grad():
        sq, usage = [], np.zeros(W.shape[0], dtype=int)
        for s in range(0, test.shape[0], 1000):
            x = test[s:s + 1000]
            x_hat, k = forward(mu, W, x, cfg["steps"], cfg["beta"], cfg["latent_decay"], choose_at)
            sq.append((x_hat - x).square().mean(1))
            usage += np.bincount(k.numpy(), minlength=W.shape[0])
        return torch.cat(sq).mean().item(), usage.tolist()


def cmd_steps(directory):
    cfg = json.load(open(os.path.join(directory, "config.json")))
    torch.set_num_threads(cfg.get("threads", 1))
    mu = torch.tensor(np.load(os.path.join(directory, "mu.npy")), requires_grad=True)
    W = torch.tensor(np.load(os.path.join(directory, "W.npy")), requires_grad=True)
    images = torch.tensor(np.load(os.path.join(directory, "images.npy")))
    order = np.load(os.path.join(directory, "order.npy"))
    test_path = os.path.join(directory, "test_images.npy")
    test = torch.tensor(np.load(test_path)) if os.path.exists(test_path) else None
    opt = make_optimizer(cfg["optimizer"], [mu, W], cfg["lr"])
    steps, batch = cfg["steps"], cfg["batch_size"]
    losses = []
    for epoch, rows in enumerate(order, start=1):
        for s in range(0, len(rows), batch):
            x = images[torch.tensor(rows[s:s + batch], dtype=torch.long)]
            opt.zero_grad()
            x_hat, _ = forward(mu, W, x, steps, cfg["beta"], cfg["latent_decay"], steps)
            loss = (x_hat - x).square().mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        if test is not None:
            mse, usage = score(mu, W, test, cfg, steps)
            print(json.dumps({"epoch": epoch, "test_mse": mse, "usage": usage}), flush=True)
    with open(os.path.join(directory, "torch_losses.json"), "w") as f:
        json.dump({"losses": losses}, f)
    np.save(os.path.join(directory, "torch_mu.npy"), mu.detach().numpy())
    np.save(os.path.join(directory, "torch_W.npy"), W.detach().numpy())


def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    n, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    x = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, rows * cols).astype(np.float32)
    return x - x.mean(1, keepdims=True)  # each image centred on its own mean, 0-255 scale


def cmd_train(a):
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    train = torch.tensor(read_idx_images(os.path.join(a.data, "train-images-idx3-ubyte.gz")))
    test = torch.tensor(read_idx_images(os.path.join(a.data, "t10k-images-idx3-ubyte.gz")))
    D, K, E = train.shape[1], a.components, a.latent_dim
    # The note's code: mu = nn.Linear(D, K).weight.T (used transposed, so as [K,D] it is the
    # weight itself) and W = nn.Linear(D*E*K, 1).weight.T reshaped to [K,D,E]: uniform in
    # +-1/sqrt(D) and +-1/sqrt(D*E*K) (PyTorch's default for these shapes).
    mu = torch.nn.Parameter(torch.nn.Linear(D, K).weight.detach().clone())
    W = torch.nn.Parameter(torch.nn.Linear(D * E * K, 1).weight.T.reshape(K, D, E).detach().clone())
    opt = make_optimizer(a.optimizer, [mu, W], a.lr)
    choose_at = a.steps - 1 if a.choose_before_last else a.steps

    cfg = {"steps": a.steps, "beta": a.beta, "latent_decay": a.latent_decay}
    mse, usage = score(mu, W, test, cfg, choose_at)
    print(json.dumps({"epoch": 0, "test_mse": mse, "usage": usage}), flush=True)
    for epoch in range(1, a.epochs + 1):
        began = time.time()
        order = torch.randperm(train.shape[0])
        if a.zero_grad == "epoch":
            opt.zero_grad()
        for s in range(0, train.shape[0], a.batch_size):
            x = train[order[s:s + a.batch_size]]
            if a.zero_grad == "batch":
                opt.zero_grad()
            x_hat, _ = forward(mu, W, x, a.steps, a.beta, a.latent_decay, choose_at)
            (x_hat - x).square().mean().backward()
            opt.step()
        mse, usage = score(mu, W, test, cfg, choose_at)
        line = {"epoch": epoch, "test_mse": mse, "usage": usage,
                "seconds": round(time.time() - began, 1)}
        print(json.dumps(line), flush=True)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("steps", help="run the optimizer steps a test wrote into DIR")
    s.add_argument("dir")
    t = sub.add_parser("train", help="train on Fashion-MNIST with the note's protocol")
    t.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    t.add_argument("--components", type=int, default=11)
    t.add_argument("--latent-dim", type=int, default=20)
    t.add_argument("--steps", type=int, default=5)
    t.add_argument("--beta", type=float, default=0.01)
    t.add_argument("--latent-decay", type=float, default=1.0)
    t.add_argument("--batch-size", type=int, default=360)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--epochs", type=int, default=40)
    t.add_argument("--seed", type=int, default=28)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--optimizer", default="rmsprop", choices=["rmsprop", "rmsprop_tfjs"])
    t.add_argument("--choose-before-last", action="store_true",
                   help="choose the component by its error at b(T-1), as the note's code does")
    t.add_argument("--zero-grad", default="batch", choices=["batch", "epoch"],
                   help="epoch: gradients accumulate over an epoch, as the note's code does")
    a = p.parse_args(argv)
    if a.command == "steps":
        cmd_steps(a.dir)
    else:
        cmd_train(a)


if __name__ == "__main__":
    main(sys.argv[1:])
