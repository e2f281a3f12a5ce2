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

`--workload FILE` builds another moelab model instead: FILE is the JSON of `moelab bench --config
RUN_CONFIG --json` (its "workload": the resolved model config and batch), so the quick family's
tiny models compare one to one (scripts/bench-vs-torch.sh --config does this). Supported: dense or
MoE (top-k, shared experts of width sharedDFf, capacity with drop / recycle to a random free slot,
load-balancing and z-loss), GQA (numKvHeads), explicit headDim, QK-RMSNorm after RoPE, CLA
(layers that are not their group's owner reuse its K after RoPE and V), tied or untied output.
RoPE uses ropeTheta without NTK scaling (no effect on speed). The FLOPs per token it reports are
computed the same way as src/model/count.ts; bench-vs-torch.sh flags any difference.

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

# The reference workload as a resolved moelab model config (src/engine/bench.ts REFERENCE_WORKLOAD
# after src/config/resolve.ts), plus its batch and LR.
REFERENCE_MODEL = dict(vocabSize=256, seqLen=128, dModel=128, numLayers=2, numHeads=4, numKvHeads=4, headDim=32,
                       dFf=512, numExperts=4, numSharedExperts=1, sharedDFf=512, topK=1, capacityFactor="inf",
                       overflowPolicy="none", auxLossCoef=0.01, zLossCoef=0.0, claShareFactor=1, qkNorm=False,
                       tieEmbeddings=True, ropeTheta=10000.0, normEps=1e-5, initStd=0.02)
REFERENCE_BATCH = 16
REFERENCE_LR = 1e-3


def rms_norm(x, g, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g


def param(*shape, std):
    return torch.nn.Parameter(torch.randn(*shape) * std)


class Mlp(torch.nn.Module):
    """SwiGLU (down(silu(x Wg) * x Wu)) or, with ffn='silu', down(silu(x Wu))."""

    def __init__(self, d, width, ffn, std):
        super().__init__()
        self.up = param(d, width, std=std)
        self.gate = param(d, width, std=std) if ffn == "swiglu" else None
        self.down = param(width, d, std=std)

    def forward(self, x):
        h = F.silu(x @ self.gate) * (x @ self.up) if self.gate is not None else F.silu(x @ self.up)
        return h @ self.down


def capacity_of(c, tokens):
    """src/model/routing.ts expertCapacity."""
    if c["capacityFactor"] in ("inf", None) or c["overflowPolicy"] == "none" or math.isinf(float(c["capacityFactor"])):
        return None
    k, e = c["topK"], c["numExperts"]
    return int(math.floor(max(k, k * tokens / e) * float(c["capacityFactor"])))


class Block(torch.nn.Module):
    """Pre-norm block: attention (GQA, optional QK-RMSNorm after RoPE, K/V shared over a CLA group
    when this layer is not its group's owner) and a dense SwiGLU FFN or a MoE layer."""

    def __init__(self, c, ffn, owner):
        super().__init__()
        d, h, g, hd, std = c["dModel"], c["numHeads"], c["numKvHeads"], c["headDim"], c["initStd"]
        self.c, self.owner = c, owner
        self.attn_norm = torch.nn.Parameter(torch.ones(d))
        self.ffn_norm = torch.nn.Parameter(torch.ones(d))
        self.wq, self.wo = param(d, h * hd, std=std), param(h * hd, d, std=std)
        self.wk = param(d, g * hd, std=std) if owner else None
        self.wv = param(d, g * hd, std=std) if owner else None
        self.q_norm = torch.nn.Parameter(torch.ones(hd)) if c["qkNorm"] else None
        self.k_norm = torch.nn.Parameter(torch.ones(hd)) if c["qkNorm"] else None
        e = c["numExperts"]
        self.dense = e == 0 or (e == 1 and c["numSharedExperts"] == 0)
        if self.dense:
            self.ffn = Mlp(d, c["dFf"], ffn, std)
        else:
            self.router = param(d, e, std=std)
            self.experts = torch.nn.ModuleList(Mlp(d, c["dFf"], ffn, std) for _ in range(e))
            self.shared = Mlp(d, c["numSharedExperts"] * c["sharedDFf"], ffn, std) if c["numSharedExperts"] > 0 else None

    def attention(self, x, rope, mask, batch, seq, shared_kv):
        c = self.c
        h, g, hd = c["numHeads"], c["numKvHeads"], c["headDim"]

        def split(t, heads):  # [B*T, heads*hd] -> [B, heads, T, hd]
            return t.view(batch, seq, heads, hd).transpose(1, 2)

        q = rope(split(x @ self.wq, h))
        if shared_kv is None:
            shared_kv = (rope(split(x @ self.wk, g)), split(x @ self.wv, g))
        k, v = shared_kv
        if self.q_norm is not None:
            q = rms_norm(q, self.q_norm, c["normEps"])
            k = rms_norm(k, self.k_norm, c["normEps"])
        if g != h:
            k, v = k.repeat_interleave(h // g, dim=1), v.repeat_interleave(h // g, dim=1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask
        out = torch.softmax(scores, dim=-1) @ v
        return out.transpose(1, 2).reshape(batch * seq, h * hd) @ self.wo, shared_kv

    def moe(self, x):
        c = self.c
        n, e, k = x.shape[0], len(self.experts), c["topK"]
        logits = x @ self.router
        probs = torch.softmax(logits, dim=-1)  # [N, E]
        top_p, top_e = probs.topk(k, dim=-1)
        gates = top_p if k == 1 else top_p / top_p.sum(-1, keepdim=True)
        tok = torch.arange(n).repeat_interleave(k)
        exp, gate = top_e.reshape(-1), gates.reshape(-1)
        counts0 = torch.bincount(exp, minlength=e)
        cap = capacity_of(c, n)
        if cap is not None:
            # First come, first served per expert; overflow dropped, or ("recycle") sent to a random
            # free slot of another expert with the router probability of that expert as its gate.
            onehot = F.one_hot(exp, e)
            pos = (onehot.cumsum(0) * onehot).sum(-1) - 1
            keep = pos < cap
            over = (~keep).nonzero().squeeze(1)
            if c["overflowPolicy"] == "recycle" and over.numel() > 0:
                free = (cap - torch.bincount(exp[keep], minlength=e)).clamp(min=0)
                slots = torch.repeat_interleave(torch.arange(e), free)
                take = min(over.numel(), slots.numel())
                new = slots[torch.randperm(slots.numel())[:take]]
                over = over[:take]
                exp = exp.clone()
                exp[over] = new
                gate = gate.clone()
                gate[over] = probs[tok[over], new]
                keep = keep.clone()
                keep[over] = True
            tok, exp, gate = tok[keep], exp[keep], gate[keep]
        order = torch.argsort(exp)
        counts = torch.bincount(exp, minlength=e).tolist()
        rows = x.index_select(0, tok[order])
        outs = [expert(part) for expert, part in zip(self.experts, rows.split(counts)) if part.shape[0] > 0]
        y = torch.cat(outs) * gate.index_select(0, order).unsqueeze(1)
        routed = torch.zeros_like(x).index_add(0, tok[order], y)
        fractions = counts0.to(x.dtype) / n
        lb = e * (fractions * probs.mean(0)).sum()
        z = torch.logsumexp(logits, dim=-1).pow(2).mean()
        return (routed + self.shared(x) if self.shared is not None else routed), lb, z

    def forward(self, x, rope, mask, batch, seq, shared_kv):
        a, kv = self.attention(rms_norm(x, self.attn_norm, self.c["normEps"]), rope, mask, batch, seq, shared_kv)
        x = x + a
        h = rms_norm(x, self.ffn_norm, self.c["normEps"])
        if self.dense:
            return x + self.ffn(h), None, None, kv
        m, lb, z = self.moe(h)
        return x + m, lb, z, kv


class MoeLm(torch.nn.Module):
    def __init__(self, c, ffn):
        super().__init__()
        self.c = c
        d, hd, std = c["dModel"], c["headDim"], c["initStd"]
        self.wte = param(c["vocabSize"], d, std=std)
        self.lm_head = None if c["tieEmbeddings"] else param(d, c["vocabSize"], std=std)
        cla = max(1, c["claShareFactor"])
        self.blocks = torch.nn.ModuleList(Block(c, ffn, i % cla == 0) for i in range(c["numLayers"]))
        self.final_norm = torch.nn.Parameter(torch.ones(d))
        inv = 1.0 / (float(c["ropeTheta"]) ** (torch.arange(0, hd // 2, dtype=torch.float32) * 2 / hd))
        ang = torch.outer(torch.arange(c["seqLen"], dtype=torch.float32), inv)
        self.register_buffer("cos", torch.cat((ang.cos(), ang.cos()), -1))
        self.register_buffer("sin", torch.cat((ang.sin(), ang.sin()), -1))
        self.register_buffer("mask", torch.full((c["seqLen"], c["seqLen"]), float("-inf")).triu(1))

    def rope(self, t):
        hd = t.shape[-1]
        t1, t2 = t[..., : hd // 2], t[..., hd // 2:]
        return t * self.cos + torch.cat((-t2, t1), dim=-1) * self.sin

    def forward(self, inputs, targets):
        batch, seq = inputs.shape
        x = self.wte[inputs.reshape(-1)]
        lbs, zs, kv = [], [], None
        for block in self.blocks:
            x, lb, z, kv = block(x, self.rope, self.mask, batch, seq, None if block.owner else kv)
            if lb is not None:
                lbs.append(lb)
                zs.append(z)
        x = rms_norm(x, self.final_norm, self.c["normEps"])
        logits = x @ self.wte.t() if self.lm_head is None else x @ self.lm_head
        loss = F.cross_entropy(logits, targets.reshape(-1))
        if lbs:
            loss = loss + self.c["auxLossCoef"] * torch.stack(lbs).mean() + self.c["zLossCoef"] * torch.stack(zs).mean()
        return loss


def flops_per_token(model, c, ffn):
    """Training FLOPs/token = 3 x forward: 2 per weight a token passes (attention projections, router,
    the experts it is routed to + shared, output layer) + causal attention over (T+1)/2 keys, as
    src/model/count.ts counts them."""
    d, t, hd = c["dModel"], c["seqLen"], c["headDim"]
    mats = 3 if ffn == "swiglu" else 2
    fwd = 0
    for b in model.blocks:
        fwd += 2 * sum(w.numel() for w in (b.wq, b.wo, b.wk, b.wv) if w is not None)
        fwd += 2 * 2 * c["numHeads"] * hd * (t + 1) / 2
        if b.dense:
            fwd += 2 * mats * d * c["dFf"]
        else:
            fwd += 2 * d * c["numExperts"] + 2 * mats * d * (c["topK"] * c["dFf"] + c["numSharedExperts"] * c["sharedDFf"])
    fwd += 2 * d * c["vocabSize"]
    return 3 * fwd


def load_workload(path):
    """A resolved moelab workload: `moelab bench --config FILE --json` output (its "workload" field,
    {model, batch}) or a plain {model, batch} object; model = src/config/resolve.ts's resolved config."""
    with open(path) as f:
        raw = json.load(f)
    w = raw.get("workload", raw)
    if "model" not in w or "batch" not in w:
        sys.stderr.write(f"torch_step.py: {path} has no workload {{model, batch}}: pass the JSON of "
                         "`moelab bench --config FILE --json` (scripts/bench-vs-torch.sh --config does this).\n")
        sys.exit(2)
    return w["model"], int(w["batch"]), float(w.get("learningRate", REFERENCE_LR))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=7, help="timed steps (median reported)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (OpenBLAS: OPENBLAS_NUM_THREADS)")
    ap.add_argument("--ffn", choices=["swiglu", "silu"], default="swiglu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--workload", help="JSON with the resolved moelab model and batch (default: the reference step)")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    if args.workload:
        c, batch, lr = load_workload(args.workload)
    else:
        c, batch, lr = REFERENCE_MODEL, REFERENCE_BATCH, REFERENCE_LR
    model = MoeLm(c, args.ffn)
    decay = [p for n, p in model.named_parameters() if "norm" not in n]
    no_decay = [p for n, p in model.named_parameters() if "norm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.95), eps=1e-8)

    def step():
        inputs = torch.randint(0, c["vocabSize"], (batch, c["seqLen"]))
        targets = torch.randint(0, c["vocabSize"], (batch, c["seqLen"]))
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
    tokens = batch * c["seqLen"]
    fpt = flops_per_token(model, c, args.ffn)
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
        "workload": {"model": c, "batch": batch},
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
