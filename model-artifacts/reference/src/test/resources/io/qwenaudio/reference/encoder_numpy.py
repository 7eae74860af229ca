"""Independent numpy forward of the Qwen2-Audio audio tower, used to cross-check ReferenceEncoder.

Usage: encoder_numpy.py DIR D LAYERS HEADS FFN MELS MEL_LENGTH
Reads DIR/<tensor name>.f32 (raw little-endian float32) and DIR/features.f32 [MELS, 3000];
writes DIR/out.f32 [750, D].
"""
import math
import sys

import numpy as np

d_dir = sys.argv[1]
d, layers, heads, ffn, mels, mel_length = (int(a) for a in sys.argv[2:8])
erf = np.vectorize(math.erf)


def t(name, *shape):
    return np.fromfile(f"{d_dir}/{name}.f32", dtype="<f4").astype(np.float64).reshape(shape)


def gelu(x):
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def conv1d(x, w, b, stride):  # x [cin, L], w [cout, cin, 3], padding 1
    xp = np.pad(x, ((0, 0), (1, 1)))
    length = (x.shape[1] - 1) // stride + 1
    cols = np.stack([xp[:, k:k + stride * length:stride] for k in range(3)], axis=2)  # [cin, length, 3]
    return np.einsum("oik,ilk->ol", w, cols) + b[:, None]


def layer_norm(x, g, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * g + b


p = "audio_tower."
x = t("features", mels, 3000)
h = gelu(conv1d(x, t(p + "conv1.weight", d, mels, 3), t(p + "conv1.bias", d), 1))
h = gelu(conv1d(h, t(p + "conv2.weight", d, d, 3), t(p + "conv2.bias", d), 2))
h = h.T + t(p + "embed_positions.weight", 1500, d)  # [1500, d]
l1 = (mel_length - 1) // 2 + 1
mask = np.where(np.arange(1500) < l1, 0.0, -np.inf)[None, None, :]
hd = d // heads
for i in range(layers):
    q_ = f"{p}layers.{i}."
    a = layer_norm(h, t(q_ + "self_attn_layer_norm.weight", d), t(q_ + "self_attn_layer_norm.bias", d))
    q = (a @ t(q_ + "self_attn.q_proj.weight", d, d).T + t(q_ + "self_attn.q_proj.bias", d)) * hd ** -0.5
    k = a @ t(q_ + "self_attn.k_proj.weight", d, d).T
    v = a @ t(q_ + "self_attn.v_proj.weight", d, d).T + t(q_ + "self_attn.v_proj.bias", d)
    q, k, v = (z.reshape(1500, heads, hd).transpose(1, 0, 2) for z in (q, k, v))
    s = q @ k.transpose(0, 2, 1) + mask
    s = np.exp(s - s.max(-1, keepdims=True))
    s /= s.sum(-1, keepdims=True)
    ctx = (s @ v).transpose(1, 0, 2).reshape(1500, d)
    h = h + ctx @ t(q_ + "self_attn.out_proj.weight", d, d).T + t(q_ + "self_attn.out_proj.bias", d)
    a = layer_norm(h, t(q_ + "final_layer_norm.weight", d), t(q_ + "final_layer_norm.bias", d))
    f = gelu(a @ t(q_ + "fc1.weight", ffn, d).T + t(q_ + "fc1.bias", ffn))
    h = h + f @ t(q_ + "fc2.weight", d, ffn).T + t(q_ + "fc2.bias", d)
h = h.reshape(750, 2, d).mean(1)
h = layer_norm(h, t(p + "layer_norm.weight", d), t(p + "layer_norm.bias", d))
h.astype("<f4").tofile(f"{d_dir}/out.f32")
