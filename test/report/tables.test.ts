import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_COLUMNS, dataFrameToTable, loadRuns, runTableRows } from '../../src/report/frame.ts';
import { loadSweep } from '../../src/io/load.ts';
import { csvField, formatCell, tableToCsv, tableToHtml, tableToMarkdown } from '../../src/report/tables.ts';
import { XSS_RUN_ID, writeSyntheticSweep, type SyntheticSweepInfo } from './synthetic-sweep.ts';

/** A small RFC 4180 reader, to check the writer round-trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  return rows;
}

describe('CSV', () => {
  it('quotes commas, quotes and newlines, writes missing values empty and non-finite as inf/nan', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(NaN)).toBe('nan');
    expect(csvField(-Infinity)).toBe('-inf');
    expect(csvField(1.2345678901234567)).toBe('1.2345678901234567');
  });

  it('round-trips awkward cells', () => {
    const table = { columns: ['id', 'note, with comma', 'x'], rows: [[XSS_RUN_ID, 'a "quoted"\nline', 3], ['b', null, 1e-9]] };
    expect(parseCsv(tableToCsv(table))).toEqual([
      ['id', 'note, with comma', 'x'],
      [XSS_RUN_ID, 'a "quoted"\nline', '3'],
      ['b', '', '1e-9'],
    ]);
  });
});

describe('HTML and markdown tables', () => {
  const table = { id: 'runs', title: 'Runs', columns: ['<b>h</b>'], rows: [[XSS_RUN_ID], [1234567], [0.000123456]] };

  it('escapes headers and cells and records the row count', () => {
    const html = tableToHtml(table);
    expect(html).not.toContain('<b>');
    expect(html).not.toContain(XSS_RUN_ID);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('data-rows="3"');
    expect(html.match(/<tr>/g)).toHaveLength(4);
  });

  it('formats numbers for display', () => {
    expect(formatCell(1234567)).toBe('1,234,567');
    expect(formatCell(0.000123456)).toBe('1.235e-4');
    expect(formatCell(2.5)).toBe('2.5');
    expect(formatCell(null)).toBe('');
  });

  it('markdown has a header, a rule and one line per row', () => {
    const md = tableToMarkdown(table).split('\n');
    expect(md).toHaveLength(5);
    expect(md[1]).toBe('| --- |');
    expect(md[2]).toBe('| &lt;img src=x onerror=alert(1)&gt; |');
  });
});

describe('runs table and loadRuns', () => {
  let root: string;
  let info: SyntheticSweepInfo;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'moelab-tables-'));
    info = writeSyntheticSweep(join(root, 's'), { studies: ['lr-batch', 'xss'] });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('has one row per run with config, counts, losses and status', () => {
    const rows = runTableRows(loadSweep(info.dir).runs);
    expect(rows).toHaveLength(info.runIds.length);
    const diverged = rows.filter((r) => r.status === 'diverged');
    expect(diverged.map((r) => r.runId).sort()).toEqual([...info.divergedRunIds].sort());
    for (const r of diverged) expect(r.finalValLoss).toBeNull();
    const r = rows.find((x) => x.runId === 'synth-lrb-bs16-lr0.001')!;
    expect(r).toMatchObject({ status: 'done', study: 'lr-batch', lr: 0.001, batchSize: 16, batchTokens: 2048, seqLen: 128, numExperts: 4, activatedParams: 200000 });
    expect(r.computeFlops).toBe((r.flopsPerToken as number) * (r.tokens as number));
    expect(r.finalValLoss).toBeGreaterThan(2.4);
  });

  it('loadRuns returns a danfojs DataFrame with one row per run and the documented columns', async () => {
    const df = await loadRuns(info.dir);
    expect(df.shape).toEqual([info.runIds.length, RUN_COLUMNS.length]);
    expect(df.columns).toEqual([...RUN_COLUMNS]);
    const table = dataFrameToTable(df, 'runs', 'Runs');
    const ids = table.rows.map((r) => r[0]);
    expect(ids).toContain(XSS_RUN_ID);
    // Diverged runs' NaN losses come back as empty cells, not the string "NaN".
    const finalIdx = RUN_COLUMNS.indexOf('finalValLoss');
    const div = table.rows.find((r) => r[0] === info.divergedRunIds[0])!;
    expect(div[finalIdx]).toBeNull();
  }, 60_000);
});
