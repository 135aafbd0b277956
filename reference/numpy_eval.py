#!/usr/bin/env python3
"""Scores a trained LLGAE/LGAE checkpoint with NumPy alone, independently of the project's
TypeScript: reads `model.safetensors` (parsed here from its documented layout: an 8-byte
little-endian header length, a JSON header, raw little-endian tensors), reads the Fashion-MNIST
test images from the idx files, centres each image on its own mean (0-255 scale), encodes every
image with the note's T gradient steps for every component,

    b_k(t) = b_k(t-1) + beta * (W_k^T (x - mu_k - W_k b_k(t-1)) - lam * b_k(t-1)),  b_k(0) = 0,

picks k* = argmin_k ||x - mu_k - W_k b_k(T)||^2 and prints the note's metric (the mean over test
images of the mean squared pixel error of x_hat = mu_k* + W_k* b_k*(T)) and the component usage
as JSON. T, beta and lam come from the checkpoint's metadata (the training params).

    /usr/bin/python3 reference/numpy_eval.py artifacts/out/paper-faithful/train_llgae/model.safetensors
"""
import argparse
import gzip
import json
import os
import struct

import numpy as np

DTYPES = {"F32": "<f4", "F64": "<f8", "I32": "<i4"}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        dtype = np.dtype(DTYPES[info["dtype"]])
        data = np.frombuffer(raw, dtype=dtype, count=(end - start) // dtype.itemsize, offset=8 + n + start)
        tensors[name] = data.reshape(info["shape"])
    return tensors, metadata


def read_test_images(directory):
    with gzip.open(os.path.join(directory, "t10k-images-idx3-ubyte.gz"), "rb") as f:
        raw = f.read()
    count, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    x = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, rows * cols).astype(np.float64)
    return x - x.mean(1, keepdims=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="model.safetensors written by the train stage")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist",
                   help="directory with t10k-images-idx3-ubyte.gz")
    a = p.parse_args()
    tensors, metadata = read_safetensors(a.model)
    params = json.loads(metadata["params"])
    steps, beta, lam = params["steps"], params["beta"], params["latent_decay"]
    mu = tensors["mu"].astype(np.float64)  # [K, D]
    W = tensors["W"].astype(np.float64)  # [K, D, E]
    K, D, E = W.shape
    test = read_test_images(a.data)
    sq = np.empty(len(test))
    usage = np.zeros(K, dtype=int)
    for s in range(0, len(test), 500):
        x = test[s:s + 500]  # [B, D]
        r0 = x[None, :, :] - mu[:, None, :]  # x - mu_k, [K, B, D]
        b = np.zeros((K, len(x), E))
        for _ in range(steps):
            r = r0 - np.einsum("kbe,kde->kbd", b, W)  # x - mu_k - W_k b
            b = b + beta * (np.einsum("kbd,kde->kbe", r, W) - lam * b)
        r = r0 - np.einsum("kbe,kde->kbd", b, W)
        err = np.square(r).sum(2)  # [K, B]
        k = err.argmin(0)
        sq[s:s + len(x)] = err[k, np.arange(len(x))] / D
        usage += np.bincount(k, minlength=K)
    print(json.dumps({
        "model": a.model,
        "epoch": metadata.get("epoch"),
        "test_images": len(test),
        "test_mse": float(sq.mean()),
        "usage": usage.tolist(),
    }))


if __name__ == "__main__":
    main()
