#!/usr/bin/env python3
"""engine/tests/handcalc_step.py - the hand calculation behind t_step.c.

An independent, deliberately plain re-derivation of docs/MODEL.md's step time
for the fixture MFU tables in fixtures/step-mfu/ (values chosen by hand so that
each lookup can be read off by eye; the lookup used for every GEMM is written
out below).  Run it to regenerate the expected numbers pasted into t_step.c:
    python3 engine/tests/handcalc_step.py
It shares no code with the engine.

Fixture GEMM MFU by (k', n') pair and m' in {1, 16, 256, 4096}:
  A (4096, 6144): 0.02 0.2 0.5 0.8     B (4096, 11008): 0.03 0.3 0.6 0.8
  C (8192, 6144): 0.02 0.2 0.5 0.8     D (8192, 11008): 0.04 0.4 0.7 0.9
Pair selection (k' >= k and n' >= n, nearest; else largest k'^2 + n'^2 = D):
  Llama-2-7B tp1:   q,k,v,o (4096,4096) -> A; gate,up (4096,11008) -> B;
                    down (11008,4096) -> D; lm_head (4096,32000) -> D;
                    fused qkv (4096,12288) -> D
  CodeLlama-34B tp2: q (8192,4096), k,v (8192,512) -> C; o (4096,8192) -> B;
                    gate,up (8192,11008) -> D; down (11008,8192) -> D;
                    lm_head (8192,16000) -> D; fused qkv (8192,5120) -> C
Decode attention table: (bs,kv) (1,1024) .1, (1,4096) .2, (16,1024) .3, (16,4096) .4
  16 requests at context 2560: nearest-floor -> (16,1024) = 0.3;
  interpolated -> halfway in kv on the bs=16 row = 0.35.
Prefill attention table: seq 1024 -> 0.3, 4096 -> 0.6; a 512-token chunk on
  an empty cache looks up seq 512: nearest -> smallest row 0.3; interp clamps to 0.3.
"""
import math

P, B = 989.5e12, 3.35e12
MS = [1, 16, 256, 4096]
TAB = {'A': [0.02, 0.2, 0.5, 0.8], 'B': [0.03, 0.3, 0.6, 0.8],
       'C': [0.02, 0.2, 0.5, 0.8], 'D': [0.04, 0.4, 0.7, 0.9]}

def mfu(pair, m, interp):
    v = TAB[pair]
    if not interp:                    # largest m' <= m, else the smallest
        best = 0
        for i, mm in enumerate(MS):
            if mm <= m:
                best = i
        return v[best]
    if m <= MS[0]:
        return v[0]
    if m >= MS[-1]:
        return v[-1]
    for i in range(3):
        if MS[i] <= m <= MS[i + 1]:
            f = math.log(m / MS[i]) / math.log(MS[i + 1] / MS[i])
            return v[i] + f * (v[i + 1] - v[i])

MODELS = {
    '7b': dict(L=32, d=4096, H=32, K=32, hd=128, F=11008, V=32000, tp=1,
               pairs=dict(q='A', k='A', v='A', o='A', gate='B', up='B', down='D', lm='D', qkv='D')),
    '34b': dict(L=48, d=8192, H=64, K=8, hd=128, F=22016, V=32000, tp=2,
                pairs=dict(q='C', k='C', v='C', o='B', gate='D', up='D', down='D', lm='D', qkv='C')),
}

def gemms(md, m, fused):
    d, tp, hd = md['d'], md['tp'], md['hd']
    Hn, Kn = md['H'] // tp * hd, max(1, md['K'] // tp) * hd
    out = []
    if fused:
        out.append(('qkv', m, d, (md['H'] + 2 * md['K']) * hd // tp))
    else:
        out += [('q', m, d, Hn), ('k', m, d, Kn), ('v', m, d, Kn)]
    out += [('o', m, Hn, d), ('gate', m, d, md['F'] // tp), ('up', m, d, md['F'] // tp),
            ('down', m, md['F'] // tp, d)]
    return out

def phase(md, cfg, m, lm_rows, pf, dec):
    """Components (compute s, bytes, bandwidth) of one phase, all layers."""
    L, b = md['L'], 2
    bw = cfg['eta'] * B
    comps = []
    if m > 0:
        for name, mm, k, n in gemms(md, m, cfg['fused']):
            u = mfu(md['pairs'][name], mm, cfg['interp'])
            comps.append((L * 2 * mm * k * n / (P * u), L * k * n * b))
    Ht = md['H'] // md['tp']
    Kt = max(1, md['K'] // md['tp'])
    kvtok = 2 * Kt * md['hd'] * b
    if pf:
        t = kv = 0
        for n, c in pf:
            f = 4 * Ht * md['hd'] * n * (c + (n + 1) / 2)
            t += f / (P * 0.3)                       # prefill MFU 0.3 (see above)
            kv += kvtok * (c + n)
        comps.append((L * t, L * kv))
    if dec:
        t = kv = 0
        u = 0.35 if cfg['interp'] else 0.3
        for c in dec:
            t += 4 * Ht * md['hd'] * c / (P * u)
            kv += kvtok * (c + 1)
        comps.append((L * t, L * kv))
    if lm_rows > 0:
        n = math.ceil(md['V'] / md['tp'])
        u = mfu('D', lm_rows, cfg['interp'])
        comps.append((2 * lm_rows * md['d'] * n / (P * u), md['d'] * n * b))
    if not comps:
        return 0.0
    if cfg['percomp']:
        return sum(max(c, by / bw) for c, by in comps)
    return max(sum(c for c, _ in comps), sum(by for _, by in comps) / bw)

def step(md, cfg, pf, dec):
    Tp, D = sum(n for n, _ in pf), len(dec)
    emits = len(pf)                           # every chunk here completes its prompt
    if Tp and D and cfg['additive']:
        t = phase(md, cfg, Tp + D, emits + D, pf, dec)
    else:
        tp = phase(md, cfg, Tp, emits, pf, [])
        td = phase(md, cfg, D, D, [], dec)
        if Tp and not D:
            t = tp
        elif D and not Tp:
            t = td
        elif Tp > 4 * D and Tp > 100:
            t = 0.75 * tp + 0.25 * td
        elif D > 2 * Tp and D > 50:
            t = 0.35 * tp + 0.65 * td
        else:
            t = (Tp * tp + D * td) / (Tp + D)
    oh = cfg['oh_pre'] if Tp else cfg['oh_dec']
    return t + oh

BASE = dict(eta=1.0, oh_dec=50e-6, oh_pre=50e-6, fused=False, percomp=False, additive=False,
            interp=False)
CONFIGS = [('baseline', {}), ('H1', dict(eta=0.8)), ('H2', dict(oh_dec=5e-3, oh_pre=30e-3)),
           ('H3', dict(fused=True)), ('H4', dict(percomp=True)), ('H5', dict(additive=True)),
           ('H6', dict(interp=True))]
CASES = [('decode', [], [2560] * 16), ('prefill', [(512, 0)], []),
         ('mixed', [(512, 0)], [2560] * 16)]

if __name__ == '__main__':
    for mk in ('7b', '34b'):
        for cname, pf, dec in CASES:
            row = []
            for name, over in CONFIGS:
                cfg = dict(BASE, **over)
                row.append('%.10e' % step(MODELS[mk], cfg, pf, dec))
            print('    {"%s", "%s", {%s}},' % (mk, cname, ', '.join(row)))
