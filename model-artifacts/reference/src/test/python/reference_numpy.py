"""Independent float64 numpy forwards of Qwen2-Audio blocks, written from the transformers sources, used to
cross-check the Java reference (ReferenceNumpyParityTest).

Usage: reference_numpy.py DIR
DIR/tasks.json lists tasks; each task names a weight directory (one <tensor name>.npy per tensor), its inputs
(.npy) and its config; outputs are written as DIR/<task name>.<output>.npy (float32).

Task kinds:
  encoder   Qwen2AudioEncoder with the key mask of Qwen2AudioForConditionalGeneration.forward; optional LoRA
            (lora_A [r, in], lora_B [out, r], scale) merged here as W + scale * B @ A.
  decoder   Qwen2Model + lm_head: RMSNorm, rotate-half RoPE, GQA, causal mask, SwiGLU; hidden states as
            output_hidden_states (embeddings, layers 0..L-2 raw, final layer after the norm).
  adapter   domain adapter: + interleaved sinusoidal PE, nn.TransformerEncoderLayer (batch_first, pre- or
            post-LN, gelu|relu), output_proj + output_norm, sigmoid gate on the input, x + scale * g * delta.
  projector Linear with bias.
"""
import json
import math
import sys

import numpy as np

ERF = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + ERF(x / math.sqrt(2.0)))


def layer_norm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def softmax(s):
    s = np.exp(s - s.max(-1, keepdims=True))
    return s / s.sum(-1, keepdims=True)


class Weights:
    def __init__(self, directory):
        self.dir = directory

    def __call__(self, name):
        return np.load(f"{self.dir}/{name}.npy").astype(np.float64)


def conv1d(x, w, b, stride):  # x [cin, L], w [cout, cin, 3], padding 1
    xp = np.pad(x, ((0, 0), (1, 1)))
    length = (x.shape[1] - 1) // stride + 1
    cols = np.stack([xp[:, k:k + stride * length:stride] for k in range(3)], axis=2)  # [cin, length, 3]
    return np.einsum("oik,ilk->ol", w, cols) + b[:, None]


def encoder(task, base):
    c = task["config"]
    d, heads, layers = c["d_model"], c["heads"], c["layers"]
    hd = d // heads
    lora = task.get("lora")
    lw = Weights(f"{base}/{lora['dir']}") if lora else None

    def linear_weight(module):
        wt = W(module + ".weight")
        if lora and module in lora["modules"]:
            wt = wt + lora["scale"] * (lw(module + ".lora_B") @ lw(module + ".lora_A"))
        return wt

    W = Weights(f"{base}/{task['weights']}")
    feats = np.load(f"{base}/{task['inputs']['features']}").astype(np.float64)  # [mels, 3000]
    m = task["mel_length"]
    p = "audio_tower."
    h = gelu(conv1d(feats, W(p + "conv1.weight"), W(p + "conv1.bias"), 1))
    h = gelu(conv1d(h, W(p + "conv2.weight"), W(p + "conv2.bias"), 2))
    t = h.shape[1]
    h = h.T + W(p + "embed_positions.weight")  # [1500, d]
    l1 = (m - 1) // 2 + 1  # _get_feat_extract_output_lengths, first stage
    mask = np.where(np.arange(t) < l1, 0.0, -np.inf)[None, None, :]  # every query row, keys >= L1 at -inf
    for i in range(layers):
        q_ = f"{p}layers.{i}."
        a = layer_norm(h, W(q_ + "self_attn_layer_norm.weight"), W(q_ + "self_attn_layer_norm.bias"), 1e-5)
        q = (a @ linear_weight(q_ + "self_attn.q_proj").T + W(q_ + "self_attn.q_proj.bias")) * hd ** -0.5
        k = a @ linear_weight(q_ + "self_attn.k_proj").T
        v = a @ linear_weight(q_ + "self_attn.v_proj").T + W(q_ + "self_attn.v_proj.bias")
        q, k, v = (z.reshape(t, heads, hd).transpose(1, 0, 2) for z in (q, k, v))
        ctx = (softmax(q @ k.transpose(0, 2, 1) + mask) @ v).transpose(1, 0, 2).reshape(t, d)
        h = h + ctx @ linear_weight(q_ + "self_attn.out_proj").T + W(q_ + "self_attn.out_proj.bias")
        a = layer_norm(h, W(q_ + "final_layer_norm.weight"), W(q_ + "final_layer_norm.bias"), 1e-5)
        f = gelu(a @ linear_weight(q_ + "fc1").T + W(q_ + "fc1.bias"))
        h = h + f @ linear_weight(q_ + "fc2").T + W(q_ + "fc2.bias")
    h = h.reshape(t // 2, 2, d).mean(1)  # AvgPool1d(2, 2) over time
    return {"last_hidden_state": layer_norm(h, W(p + "layer_norm.weight"), W(p + "layer_norm.bias"), 1e-5)}


def rms_norm(x, w, eps):
    return w * (x / np.sqrt((x * x).mean(-1, keepdims=True) + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def decoder(task, base):
    c = task["config"]
    hsz, nh, kvh, hd, layers, eps, theta = (c[k] for k in ("hidden", "heads", "kv_heads", "head_dim", "layers",
                                                           "rms_norm_eps", "rope_theta"))
    W = Weights(f"{base}/{task['weights']}")
    x = np.load(f"{base}/{task['inputs']['inputs_embeds']}").astype(np.float64)  # [S, H]
    s = x.shape[0]
    inv_freq = 1.0 / theta ** (np.arange(0, hd, 2) / hd)
    freqs = np.arange(s)[:, None] * inv_freq[None, :]
    emb = np.concatenate([freqs, freqs], -1)  # [S, hd]
    cos, sin = np.cos(emb), np.sin(emb)
    causal = np.where(np.arange(s)[None, :] <= np.arange(s)[:, None], 0.0, -np.inf)
    p = "language_model.model."
    hidden = [x]
    h = x
    for i in range(layers):
        q_ = f"{p}layers.{i}."
        a = rms_norm(h, W(q_ + "input_layernorm.weight"), eps)
        q = (a @ W(q_ + "self_attn.q_proj.weight").T + W(q_ + "self_attn.q_proj.bias")).reshape(s, nh, hd)
        k = (a @ W(q_ + "self_attn.k_proj.weight").T + W(q_ + "self_attn.k_proj.bias")).reshape(s, kvh, hd)
        v = (a @ W(q_ + "self_attn.v_proj.weight").T + W(q_ + "self_attn.v_proj.bias")).reshape(s, kvh, hd)
        q = q * cos[:, None, :] + rotate_half(q) * sin[:, None, :]
        k = k * cos[:, None, :] + rotate_half(k) * sin[:, None, :]
        rep = nh // kvh  # repeat_kv: head j uses kv head j // rep
        k = np.repeat(k, rep, axis=1)
        v = np.repeat(v, rep, axis=1)
        q, k, v = (z.transpose(1, 0, 2) for z in (q, k, v))  # [heads, S, hd]
        att = softmax(q @ k.transpose(0, 2, 1) * hd ** -0.5 + causal)
        ctx = (att @ v).transpose(1, 0, 2).reshape(s, nh * hd)
        h = h + ctx @ W(q_ + "self_attn.o_proj.weight").T
        a = rms_norm(h, W(q_ + "post_attention_layernorm.weight"), eps)
        g = a @ W(q_ + "mlp.gate_proj.weight").T
        u = a @ W(q_ + "mlp.up_proj.weight").T
        h = h + (g / (1.0 + np.exp(-g)) * u) @ W(q_ + "mlp.down_proj.weight").T
        hidden.append(h)
    normed = rms_norm(h, W(p + "norm.weight"), eps)
    hidden[-1] = normed
    out = {f"hidden_{i}": t for i, t in enumerate(hidden)}
    out["logits"] = normed @ W("language_model.lm_head.weight").T
    return out


def adapter(task, base):
    c = task["config"]
    d, layers, heads, eps = c["input_dim"], c["num_layers"], c["num_heads"], c["layer_norm_eps"]
    hd = d // heads
    act = gelu if c["activation"] == "gelu" else (lambda z: np.maximum(z, 0.0))
    W = Weights(f"{base}/{task['weights']}")
    x = np.load(f"{base}/{task['inputs']['x']}").astype(np.float64)  # [n, d]
    n = x.shape[0]
    h = x.copy()
    if c["positional_encoding"] == "sinusoidal":
        pe = np.zeros((n, d))
        pos = np.arange(n)[:, None]
        div = np.exp(np.arange(0, d, 2) * (-math.log(10000.0) / d))
        pe[:, 0::2] = np.sin(pos * div)
        pe[:, 1::2] = np.cos(pos * div)[:, : d // 2]
        h = h + pe

    def sa(z, p):
        qkv = z @ W(p + "self_attn.in_proj_weight").T + W(p + "self_attn.in_proj_bias")
        q, k, v = (qkv[:, i * d:(i + 1) * d].reshape(n, heads, hd).transpose(1, 0, 2) for i in range(3))
        ctx = (softmax(q @ k.transpose(0, 2, 1) / math.sqrt(hd)) @ v).transpose(1, 0, 2).reshape(n, d)
        return ctx @ W(p + "self_attn.out_proj.weight").T + W(p + "self_attn.out_proj.bias")

    def ff(z, p):
        return act(z @ W(p + "linear1.weight").T + W(p + "linear1.bias")) @ W(p + "linear2.weight").T + W(
            p + "linear2.bias")

    for i in range(layers):
        p = f"layers.{i}."
        n1 = lambda z: layer_norm(z, W(p + "norm1.weight"), W(p + "norm1.bias"), eps)
        n2 = lambda z: layer_norm(z, W(p + "norm2.weight"), W(p + "norm2.bias"), eps)
        if c["norm_first"]:
            h = h + sa(n1(h), p)
            h = h + ff(n2(h), p)
        else:
            h = n1(h + sa(h, p))
            h = n2(h + ff(h, p))
    delta = layer_norm(h @ W("output_proj.weight").T + W("output_proj.bias"), W("output_norm.weight"),
                       W("output_norm.bias"), eps)
    if c["use_gate"]:
        z = x @ W("gate.weight").T + W("gate.bias")
        g = 1.0 / (1.0 + np.exp(-z))
    else:
        g = np.ones((n, 1))
    out = x + W("scale")[0] * g * delta
    return {"out": out, "gate": g, "delta": delta}


def projector(task, base):
    W = Weights(f"{base}/{task['weights']}")
    x = np.load(f"{base}/{task['inputs']['x']}").astype(np.float64)
    return {"y": x @ W("multi_modal_projector.linear.weight").T + W("multi_modal_projector.linear.bias")}


KINDS = {"encoder": encoder, "decoder": decoder, "adapter": adapter, "projector": projector}

if __name__ == "__main__":
    base = sys.argv[1]
    with open(f"{base}/tasks.json") as f:
        tasks = json.load(f)
    for task in tasks:
        for key, value in KINDS[task["kind"]](task, base).items():
            np.save(f"{base}/{task['name']}.{key}.npy", value.astype(np.float32))
        print("done", task["name"])
