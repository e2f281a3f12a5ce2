import { describe, expect, it } from 'vitest';
import { escapeHtml, escapeInlineScript, escapePlotlyText, jsonForScript, sanitizeFigure } from '../../src/report/escape.ts';
import type { FigureSpec } from '../../src/report/figure.ts';
import { renderReportHtml } from '../../src/report/page.ts';
import { escapeMarkdown } from '../../src/report/tables.ts';

const XSS = '<img src=x onerror=alert(1)>';

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&#39;');
    expect(escapeHtml(XSS)).toBe('&lt;img src=x onerror=alert(1)&gt;');
    expect(escapeHtml(3.5)).toBe('3.5');
  });
});

describe('jsonForScript', () => {
  it('never contains </script, <!-- or raw line separators, and parses back to the same value', () => {
    const value = { name: '</script><script>alert(1)</script>', c: '<!-- x -->', ls: 'a\u2028b\u2029c', amp: 'a&b' };
    const s = jsonForScript(value);
    expect(s).not.toMatch(/<\/script/i);
    expect(s).not.toContain('<!--');
    expect(s).not.toMatch(/[\u2028\u2029<>&]/);
    expect(JSON.parse(s)).toEqual(value);
  });
});

describe('escapeInlineScript', () => {
  it('breaks every </script (any case) and <!-- without changing what JS strings mean', () => {
    const src = 'var a = "</script>"; var b = "</SCRIPT x"; var c = "<!--";';
    const out = escapeInlineScript(src);
    expect(out).not.toMatch(/<\/script/i);
    expect(out).not.toContain('<!--');
    // Evaluate both versions: same values.
    const run = (code: string) => new Function(`${code} return [a, b, c];`)() as string[];
    expect(run(out)).toEqual(run(src));
  });
});

describe('sanitizeFigure', () => {
  const spec: FigureSpec = {
    id: 'x',
    title: 'T',
    data: [
      {
        type: 'scatter',
        mode: 'lines',
        name: XSS,
        text: [XSS, 'plain'],
        line: { color: 'rgb(1,2,3)', dash: 'dot' },
        hovertemplate: '%{text}<br>%{x}<extra></extra>',
      },
    ],
    layout: { xaxis: { title: { text: 'a & b' }, type: 'log' }, annotations: [{ text: '<b>run</b>' }] },
  };
  const out = sanitizeFigure(spec);
  const trace = out.data[0] as { name: string; text: string[]; line: { color: string; dash: string }; mode: string; hovertemplate: string };

  it('escapes names, text arrays, titles and annotations', () => {
    expect(trace.name).toBe(escapePlotlyText(XSS));
    expect(trace.name).not.toContain('<');
    expect(trace.text).toEqual(['&lt;img src=x onerror=alert(1)&gt;', 'plain']);
    expect((out.layout.xaxis as { title: { text: string } }).title.text).toBe('a &amp; b');
    expect((out.layout.annotations as { text: string }[])[0].text).toBe('&lt;b&gt;run&lt;/b&gt;');
  });

  it('leaves authored templates, colours and modes alone and does not mutate the input', () => {
    expect(trace.hovertemplate).toBe('%{text}<br>%{x}<extra></extra>');
    expect(trace.line).toEqual({ color: 'rgb(1,2,3)', dash: 'dot' });
    expect(trace.mode).toBe('lines');
    expect((spec.data[0] as { name: string }).name).toBe(XSS);
  });
});

describe('renderReportHtml', () => {
  const html = renderReportHtml(
    {
      title: `report ${XSS}`,
      meta: [`folder /tmp/${XSS}`],
      headline: [{ label: 'best', value: XSS }],
      sections: [
        {
          id: 'training',
          title: 'Training',
          notes: [XSS],
          figures: [{ id: 'f-1', title: XSS, caption: XSS, data: [{ type: 'scatter', x: [1], y: [2], name: XSS }], layout: {} }],
          tables: [{ id: 'runs', title: 'Runs', columns: [XSS], rows: [[XSS]] }],
        },
      ],
      downloads: [{ label: XSS, href: `tables/"${XSS}.csv` }],
    },
    'window.Plotly = {}; // "</script>" inside the bundle',
  );

  it('contains no data-derived markup anywhere', () => {
    expect(html).not.toContain(XSS);
    expect(html).not.toContain('"</script>"');
    expect(html.match(/<script/g)).toHaveLength(3); // Plotly, figure JSON, client script
  });

  it('refuses figure ids that are not kebab-case', () => {
    expect(() =>
      renderReportHtml({ title: 't', meta: [], headline: [], sections: [{ id: 's', title: 's', figures: [{ id: 'a"b', title: 't', data: [], layout: {} }], tables: [] }] }, ''),
    ).toThrow(/kebab-case/);
  });
});

describe('escapeMarkdown', () => {
  it('makes HTML and markdown punctuation inert', () => {
    expect(escapeMarkdown(XSS)).toBe('&lt;img src=x onerror=alert(1)&gt;');
    expect(escapeMarkdown('a|b*c_d`e[f]\ng')).toBe('a\\|b\\*c\\_d\\`e\\[f\\] g');
  });
});
