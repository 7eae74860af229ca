#!/usr/bin/python3
"""PyTorch eager peer of the ONNX decoder benchmark: the Qwen2 text decoder of a Hugging Face Qwen2-Audio
checkpoint, written out in plain torch ops as transformers' eager Qwen2 runs them (RMSNorm, rotary, causal
attention with a KV cache, SiLU MLP), fp32 on the CPU, greedy.

Input: the checkpoint directory (config.json + *.safetensors, bf16/fp16/fp32) and an .npz with the prompt ids
(int64 [S]), the audio rows (float32 [N, H]) and the first audio position; the audio rows replace the N
positions from there, as the serving Generator does. Output: one line of JSON with prefill_ms (embedding +
prefill + first argmax), decode_tps ((new - 1) / time from the first to the last token), the ids, the peak RSS
and the torch/BLAS facts.

Run with Debian's own interpreter and packages:
    apt-get install python3-torch libopenblas0-pthread
    /usr/bin/python3 torch_decoder.py --check
    /usr/bin/python3 torch_decoder.py CHECKPOINT PROMPT.npz --tokens 64
"""
import argparse
import json
import os
import struct
import sys
import time

INSTALL = ("needs Debian's python3-torch with the OpenBLAS backend: apt-get install python3-torch "
           "libopenblas0-pthread (and run it with /usr/bin/python3, not another python on PATH)")

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print("torch_decoder.py: %s; %s" % (e, INSTALL), file=sys.stderr)
    sys.exit(3)


def blas_library():
    """The BLAS shared object this process mapped (the reference BLAS is ~20x slower than OpenBLAS)."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.lower() and line.split()[-1].startswith("/")}
    return sorted(libs)


def check():
    libs = blas_library()
    if not any("openblas" in lib for lib in libs):
        print("torch_decoder.py: torch runs on %s, not OpenBLAS; %s" % (libs or "no BLAS", INSTALL), file=sys.stderr)
        sys.exit(3)
    print(json.dumps({"torch": torch.__version__, "blas": libs, "threads": torch.get_num_threads()}))


DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16}


def read_safetensors(directory, keep):
    """Tensors whose name passes keep(name), as float32 torch tensors, from every *.safetensors file."""
    out = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".safetensors"):
            continue
        with open(os.path.join(directory, name), "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
            base = 8 + n
            for key, info in header.items():
                if key == "__metadata__" or not keep(key):
                    continue
                start, end = info["data_offsets"]
                f.seek(base + start)
                a = np.frombuffer(f.read(end - start), dtype=DTYPES[info["dtype"]])
                if info["dtype"] == "BF16":
                    a = (a.astype(np.uint32) << 16).view(np.float32)
                out[key] = torch.from_numpy(a.astype(np.float32).reshape(info["shape"]))
    return out


class Qwen2:
    """The text decoder's weights by their transformers names (language_model.* of Qwen2AudioForConditionalGeneration)."""

    def __init__(self, checkpoint):
        with open(os.path.join(checkpoint, "config.json")) as f:
            cfg = json.load(f)["text_config"]
        self.h = cfg["hidden_size"]
        self.layers = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg.get("num_key_value_heads", self.heads)
        self.d = self.h // self.heads
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        theta = cfg.get("rope_theta", 10000.0)
        w = read_safetensors(checkpoint, lambda k: "language_model." in k or k == "lm_head.weight")
        # hub layout: language_model.model.* / language_model.lm_head; newer: model.language_model.* / lm_head
        self.w = {}
        for k, v in w.items():
            k = k.replace("model.language_model.", "language_model.model.")
            if k == "lm_head.weight":
                k = "language_model.lm_head.weight"
            self.w[k[len("language_model."):]] = v
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, self.d, 2, dtype=torch.int64).float() / self.d))

    def p(self, name):
        return self.w["model." + name]

    def rms(self, x, weight):
        var = x.pow(2).mean(-1, keepdim=True)
        return weight * (x * torch.rsqrt(var + self.eps))

    def rotary(self, positions):
        freqs = positions[:, None].float() * self.inv_freq[None, :]  # [S, D/2]
        emb = torch.cat((freqs, freqs), dim=-1)                        # [S, D]
        return emb.cos(), emb.sin()

    @staticmethod
    def rotate_half(x):
        x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
        return torch.cat((-x2, x1), dim=-1)

    def forward(self, x, cache, past):
        """x [1, S, H] at positions past..past+S-1; cache: list of (k, v) [1, kvH, P, D] (appended to); logits [V] of the last."""
        s = x.shape[1]
        cos, sin = self.rotary(torch.arange(past, past + s))
        rep = self.heads // self.kv_heads
        causal = None
        if s > 1:
            causal = torch.full((s, past + s), torch.finfo(torch.float32).min).triu(past + 1)
        for i in range(self.layers):
            l = "layers.%d." % i
            a = self.rms(x, self.p(l + "input_layernorm.weight"))
            q = F.linear(a, self.p(l + "self_attn.q_proj.weight"), self.p(l + "self_attn.q_proj.bias"))
            k = F.linear(a, self.p(l + "self_attn.k_proj.weight"), self.p(l + "self_attn.k_proj.bias"))
            v = F.linear(a, self.p(l + "self_attn.v_proj.weight"), self.p(l + "self_attn.v_proj.bias"))
            q = q.view(1, s, self.heads, self.d).transpose(1, 2)       # [1, nH, S, D]
            k = k.view(1, s, self.kv_heads, self.d).transpose(1, 2)    # [1, kvH, S, D]
            v = v.view(1, s, self.kv_heads, self.d).transpose(1, 2)
            q = q * cos + self.rotate_half(q) * sin
            k = k * cos + self.rotate_half(k) * sin
            if cache[i] is not None:
                k = torch.cat((cache[i][0], k), dim=2)
                v = torch.cat((cache[i][1], v), dim=2)
            cache[i] = (k, v)
            if rep > 1:
                k = k.repeat_interleave(rep, dim=1)
                v = v.repeat_interleave(rep, dim=1)
            scores = torch.matmul(q, k.transpose(2, 3)) * (self.d ** -0.5)  # [1, nH, S, T]
            if causal is not None:
                scores = scores + causal
            probs = F.softmax(scores, dim=-1, dtype=torch.float32)
            o = torch.matmul(probs, v).transpose(1, 2).reshape(1, s, self.h)
            x = x + F.linear(o, self.p(l + "self_attn.o_proj.weight"))
            m = self.rms(x, self.p(l + "post_attention_layernorm.weight"))
            g = F.linear(m, self.p(l + "mlp.gate_proj.weight"))
            u = F.linear(m, self.p(l + "mlp.up_proj.weight"))
            x = x + F.linear(F.silu(g) * u, self.p(l + "mlp.down_proj.weight"))
        x = self.rms(x[:, -1:], self.p("norm.weight"))
        return F.linear(x, self.w["lm_head.weight"])[0, 0]


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return -1.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", nargs="?")
    ap.add_argument("prompt", nargs="?", help=".npz with ids [S] int64, audio [N, H] float32, audio_start int")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--reps", type=int, default=1, help="timed generations after one warm-up (medians reported)")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                    help="intra-op threads (default: the CPUs this process may use; torch's own default is lower)")
    ap.add_argument("--check", action="store_true", help="only check that torch runs on OpenBLAS")
    a = ap.parse_args()
    if a.check:
        check()
        return
    if not a.checkpoint or not a.prompt:
        ap.error("CHECKPOINT and PROMPT are needed (or --check)")
    torch.set_num_threads(a.threads)
    libs = blas_library()
    model = Qwen2(a.checkpoint)
    z = np.load(a.prompt)
    ids = torch.from_numpy(z["ids"].astype(np.int64))
    audio = torch.from_numpy(z["audio"].astype(np.float32))
    start = int(z["audio_start"])
    table = model.w["model.embed_tokens.weight"]
    prefill, decode, out = [], [], None
    with torch.inference_mode():
        for rep in range(a.reps + 1):                          # the first is a warm-up
            t0 = time.perf_counter()
            x = table[ids].clone()                             # [S, H]
            x[start:start + audio.shape[0]] = audio
            cache = [None] * model.layers
            logits = model.forward(x[None], cache, 0)
            tokens = [int(torch.argmax(logits))]
            t1 = time.perf_counter()
            pos = ids.shape[0]
            while len(tokens) < (a.tokens if rep > 0 else min(a.tokens, 8)):  # the warm-up decodes 8
                logits = model.forward(table[tokens[-1]][None, None], cache, pos)
                tokens.append(int(torch.argmax(logits)))
                pos += 1
            t2 = time.perf_counter()
            if rep > 0:
                prefill.append((t1 - t0) * 1e3)
                decode.append((len(tokens) - 1) / (t2 - t1))
            out = tokens
    print(json.dumps({"prompt": int(ids.shape[0]), "prefill_ms": float(np.median(prefill)),
                      "decode_tps": float(np.median(decode)), "ids": out, "rss_mib": peak_rss_mib(),
                      "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": libs}))


if __name__ == "__main__":
    main()
