#!/usr/bin/env python3
"""The moelab reference training step in PyTorch (issue #10): the peer `moelab bench` is compared to.

Same workload as src/engine/bench.ts REFERENCE_WORKLOAD and the same model as src/model (written
independently from its description, not translated): vocab 256, d_model 128, 2 layers, 4 heads
(head dim 32), seq 128, batch 16; pre-RMSNorm blocks; causal attention with rotate-half RoPE
(theta 10000); MoE with 4 specialized SwiGLU experts (top-1, gate = router probability, no
capacity limit) + 1 shared SwiGLU expert, FFN 512; tied embeddings; loss = CE + 0.01 * load
balancing loss (E * sum_e f_e * mean P_e); AdamW (lr 1e-3, betas 0.9/0.95, eps 1e-8, decay 0.1,
no decay on norm gains) after global-norm clipping at 1.0; float32.
`--ffn silu` swaps in the 2-matrix SiLU MLP of STACK.md's original peer.

Tokens are a permutation dispatch: sort by expert, each expert's matmuls on its contiguous slice,
index_add back; one full step = forward, backward, optimizer update, loss read back.

Run with Debian's python (`apt-get install -y python3-torch`): /usr/bin/python3 bench/torch_step.py
Debian's torch 1.13 runs matmuls on OpenBLAS, which ignores torch.set_num_threads: set
OPENBLAS_NUM_THREADS (default here 2) before it starts; --threads sets torch's own pool (default 1,
fastest measured in STACK.md).
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.stderr.write("torch_step.py: `import torch` failed. Install Debian's PyTorch: apt-get install -y python3-torch "
                     "(and run /usr/bin/python3, not another python first on PATH).\n")
    sys.exit(3)

WORKLOAD = dict(vocab=256, d_model=128, layers=2, heads=4, seq=128, batch=16, experts=4, shared=1, d_ff=512,
                aux_coef=0.01, lr=1e-3)


def rms_norm(x, g, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g


class Mlp(torch.nn.Module):
    """SwiGLU (down(silu(x Wg) * x Wu)) or, with ffn='silu', down(silu(x Wu))."""

    def __init__(self, d, width, ffn):
        super().__init__()
        self.ffn = ffn
        self.up = torch.nn.Parameter(torch.randn(d, width) * 0.02)
        self.gate = torch.nn.Parameter(torch.randn(d, width) * 0.02) if ffn == "swiglu" else None
        self.down = torch.nn.Parameter(torch.randn(width, d) * 0.02)

    def forward(self, x):
        h = F.silu(x @ self.gate) * (x @ self.up) if self.gate is not None else F.silu(x @ self.up)
        return h @ self.down


class Block(torch.nn.Module):
    def __init__(self, c, ffn):
        super().__init__()
        d = c["d_model"]
        self.attn_norm = torch.nn.Parameter(torch.ones(d))
        self.ffn_norm = torch.nn.Parameter(torch.ones(d))
        self.wq, self.wk, self.wv, self.wo = (torch.nn.Parameter(torch.randn(d, d) * 0.02) for _ in range(4))
        self.router = torch.nn.Parameter(torch.randn(d, c["experts"]) * 0.02)
        self.experts = torch.nn.ModuleList(Mlp(d, c["d_ff"], ffn) for _ in range(c["experts"]))
        self.shared = Mlp(d, c["shared"] * c["d_ff"], ffn)
        self.heads = c["heads"]

    def attention(self, x, cos, sin, mask, batch, seq):
        d = x.shape[-1]
        hd = d // self.heads

        def split(t):  # [B*T, d] -> [B, h, T, hd]
            return t.view(batch, seq, self.heads, hd).transpose(1, 2)

        def rope(t):
            t1, t2 = t[..., : hd // 2], t[..., hd // 2:]
            return t * cos + torch.cat((-t2, t1), dim=-1) * sin

        q, k, v = split(x @ self.wq), split(x @ self.wk), split(x @ self.wv)
        q, k = rope(q), rope(k)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask
        out = torch.softmax(scores, dim=-1) @ v
        return out.transpose(1, 2).reshape(batch * seq, d) @ self.wo

    def moe(self, x):
        probs = torch.softmax(x @ self.router, dim=-1)  # [N, E]
        gate, choice = probs.max(dim=-1)  # top-1
        order = torch.argsort(choice)
        counts = torch.bincount(choice, minlength=len(self.experts)).tolist()
        rows = x.index_select(0, order)
        outs = [expert(part) for expert, part in zip(self.experts, rows.split(counts)) if part.shape[0] > 0]
        y = torch.cat(outs) * gate.index_select(0, order).unsqueeze(1)
        routed = torch.zeros_like(x).index_add(0, order, y)
        fractions = torch.tensor(counts, dtype=x.dtype) / x.shape[0]
        lb = len(self.experts) * (fractions * probs.mean(0)).sum()
        return routed + self.shared(x), lb

    def forward(self, x, cos, sin, mask, batch, seq):
        x = x + self.attention(rms_norm(x, self.attn_norm), cos, sin, mask, batch, seq)
        m, lb = self.moe(rms_norm(x, self.ffn_norm))
        return x + m, lb


class MoeLm(torch.nn.Module):
    def __init__(self, c, ffn):
        super().__init__()
        self.c = c
        self.wte = torch.nn.Parameter(torch.randn(c["vocab"], c["d_model"]) * 0.02)
        self.blocks = torch.nn.ModuleList(Block(c, ffn) for _ in range(c["layers"]))
        self.final_norm = torch.nn.Parameter(torch.ones(c["d_model"]))
        hd = c["d_model"] // c["heads"]
        inv = 1.0 / (10000 ** (torch.arange(0, hd // 2, dtype=torch.float32) * 2 / hd))
        ang = torch.outer(torch.arange(c["seq"], dtype=torch.float32), inv)
        self.register_buffer("cos", torch.cat((ang.cos(), ang.cos()), -1))
        self.register_buffer("sin", torch.cat((ang.sin(), ang.sin()), -1))
        self.register_buffer("mask", torch.full((c["seq"], c["seq"]), float("-inf")).triu(1))

    def forward(self, inputs, targets):
        batch, seq = inputs.shape
        x = self.wte[inputs.reshape(-1)]
        lbs = []
        for block in self.blocks:
            x, lb = block(x, self.cos, self.sin, self.mask, batch, seq)
            lbs.append(lb)
        logits = rms_norm(x, self.final_norm) @ self.wte.t()
        return F.cross_entropy(logits, targets.reshape(-1)) + self.c["aux_coef"] * torch.stack(lbs).mean()


def flops_per_token(c, ffn):
    """Training FLOPs/token = 3 x forward, counted as src/model/count.ts does (causal: (T+1)/2 keys)."""
    d, l, v, t = c["d_model"], c["layers"], c["vocab"], c["seq"]
    mats = 3 if ffn == "swiglu" else 2
    fwd = 2 * l * 4 * d * d + l * 2 * 2 * d * (t + 1) / 2 + 2 * l * d * c["experts"] \
        + 2 * l * mats * d * c["d_ff"] * (c["shared"] + 1) + 2 * d * v
    return 3 * fwd


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=7, help="timed steps (median reported)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (OpenBLAS: OPENBLAS_NUM_THREADS)")
    ap.add_argument("--ffn", choices=["swiglu", "silu"], default="swiglu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    c = WORKLOAD
    model = MoeLm(c, args.ffn)
    decay = [p for n, p in model.named_parameters() if "norm" not in n]
    no_decay = [p for n, p in model.named_parameters() if "norm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=c["lr"], betas=(0.9, 0.95), eps=1e-8)

    def step():
        inputs = torch.randint(0, c["vocab"], (c["batch"], c["seq"]))
        targets = torch.randint(0, c["vocab"], (c["batch"], c["seq"]))
        opt.zero_grad(set_to_none=True)
        loss = model(inputs, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    times, cpu = [], []
    for _ in range(args.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    median = statistics.median(times)
    tokens = c["batch"] * c["seq"]
    fpt = flops_per_token(c, args.ffn)
    result = {
        "tokensPerSec": tokens / median,
        "medianStepMs": 1000 * median,
        "stepMs": [1000 * t for t in times],
        # CPU time of all threads per step: robust to other load, comparable to moelab's cpuMsPerStep.
        "cpuMsPerStep": 1000 * statistics.median(cpu),
        "flopsPerToken": fpt,
        "gflops": fpt * tokens / median / 1e9,
        "ffn": args.ffn,
        "torch": torch.__version__,
        "threads": args.threads,
        "openblasThreads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "params": sum(p.numel() for p in model.parameters()),
        "loadAvg1m": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"PyTorch {torch.__version__} ({args.ffn}, torch threads {args.threads}, OPENBLAS_NUM_THREADS "
              f"{result['openblasThreads']}): {result['tokensPerSec']:.0f} tokens/s, median step "
              f"{result['medianStepMs']:.1f} ms, {result['gflops']:.1f} GFLOP/s, {result['params']:,} parameters")


if __name__ == "__main__":
    main()
