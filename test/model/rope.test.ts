// RoPE maths (pure): the NTK-α base of docs/references.md#configuration, the rotate-half matrix, relative positions.
import { describe, expect, it } from 'vitest';
import { applyRope, ropeBase, ropeInvFreq, ropeTables, rotateHalfMatrix } from '../../src/model/rope.ts';

describe('ropeBase = θ · α^(d_h/(d_h−2))', () => {
  it('Hunyuan-Large pretrain (α = 1e5, d_h = 80): ≈ 1.34e9', () => {
    expect(ropeBase(10000, 1e5, 80) / 1e9).toBeCloseTo(1.343, 3);
  });
  it('Hunyuan-Large instruct (α = 1000): ≈ 1.19e7', () => {
    expect(ropeBase(10000, 1000, 80) / 1e7).toBeCloseTo(1.194, 3);
  });
  it('α = 1 is plain RoPE', () => expect(ropeBase(10000, 1, 64)).toBe(10000));
});

describe('tables and rotation', () => {
  it('inv_freq_i = base^(−2i/d_h)', () => {
    expect(Array.from(ropeInvFreq(10000, 4))).toEqual([1, 1 / 100]);
  });

  it('x·R = rotateHalf(x) = [−x2, x1]', () => {
    const x = [1, 2, 3, 4, 5, 6];
    const r = rotateHalfMatrix(6);
    const y = Array.from({ length: 6 }, (_, j) => x.reduce((s, xi, i) => s + xi * r[i * 6 + j], 0));
    expect(y).toEqual([-4, -5, -6, 1, 2, 3]);
  });

  it('tables repeat the frequencies over both halves; position 0 is the identity', () => {
    const { cos, sin } = ropeTables(3, 4, 100);
    expect(Array.from(cos.slice(0, 4))).toEqual([1, 1, 1, 1]);
    expect(cos[4 + 0]).toBeCloseTo(Math.cos(1), 6);
    expect(cos[4 + 2]).toBeCloseTo(Math.cos(1), 6);
    expect(sin[8 + 1]).toBeCloseTo(Math.sin(2 / 10), 6);
  });

  it('rotation preserves the norm and ⟨rope(q, m), rope(k, n)⟩ depends only on m − n', () => {
    const q = [0.3, -1.2, 0.5, 2.0, 0.1, -0.7];
    const k = [1.1, 0.4, -0.9, 0.2, 0.6, 1.5];
    const base = ropeBase(10000, 8, 6);
    const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
    expect(Math.hypot(...applyRope(q, 17, base))).toBeCloseTo(Math.hypot(...q), 10);
    expect(dot(applyRope(q, 9, base), applyRope(k, 4, base))).toBeCloseTo(dot(applyRope(q, 25, base), applyRope(k, 20, base)), 10);
  });
});
