// The dashboard's one HTML page. It holds no data: its script polls /api/state (the JSON of
// src/dashboard/snapshot.ts) every `pollMs` and redraws the runs table, the loss curves (train and
// validation in separate plots, one colour per run, sequential by model size), the expert usage
// and the fit, without reloading. Everything from the data is inserted as text (textContent),
// never as markup. Plotly comes from the server (/plotly.js), never from the network.

export interface DashboardPageOptions {
  pollMs: number;
  title: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export function dashboardPageHtml(options: DashboardPageOptions): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(options.title)} · moelab dashboard</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #222; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  #status { color: #444; margin-bottom: 12px; }
  #error { color: #b00020; }
  table { border-collapse: collapse; font-size: 13px; }
  th, td { padding: 3px 8px; border-bottom: 1px solid #e4e4e4; text-align: right; white-space: nowrap; }
  th:first-child, td:first-child { text-align: left; }
  td.state-running { color: #1f6feb; font-weight: 600; }
  td.state-done { color: #1a7f37; }
  td.state-failed, td.state-diverged { color: #b00020; }
  td.state-pending { color: #777; }
  .row { display: flex; flex-wrap: wrap; gap: 12px; }
  .plot { width: 560px; height: 380px; }
  #fit { margin-top: 8px; }
</style>
</head>
<body data-updates="0">
<h1 id="title">${escapeHtml(options.title)}</h1>
<div id="status">connecting…</div>
<div id="error"></div>
<table id="runs"><thead><tr><th>run</th><th>state</th><th>step</th><th>train loss</th><th>val loss</th><th>tok/s</th><th>ETA</th></tr></thead><tbody></tbody></table>
<div class="row">
  <div class="plot" id="fig-train"></div>
  <div class="plot" id="fig-val"></div>
</div>
<div class="row">
  <div class="plot" id="fig-usage"></div>
  <div><h2 style="font-size:16px">Fit</h2><div id="fit">waiting for data</div><table id="fit-table"><tbody></tbody></table></div>
</div>
<script src="/plotly.js"></script>
<script>
(() => {
  const POLL_MS = ${Math.max(100, Math.round(options.pollMs))};
  const $ = (id) => document.getElementById(id);
  const fmt = (v, d = 3) => (v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v).toFixed(d));
  const dur = (s) => {
    if (s === null || s === undefined || !Number.isFinite(s)) return '?';
    s = Math.round(s);
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm' + String(s % 60).padStart(2, '0') + 's';
    return Math.floor(s / 3600) + 'h' + String(Math.floor((s % 3600) / 60)).padStart(2, '0') + 'm';
  };
  const sci = (v) => (v === null || v === undefined ? '–' : Number(v).toPrecision(3));
  // Sequential colours by activated parameters (small = light, large = dark), one per run.
  const viridis = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'];
  function colourOf(value, lo, hi) {
    const t = hi > lo ? (Math.log(value) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) : 0.5;
    const x = (1 - t) * (viridis.length - 1);
    const i = Math.min(viridis.length - 2, Math.floor(x));
    const f = x - i;
    const a = viridis[i], b = viridis[i + 1];
    const ch = (k) => Math.round(parseInt(a.slice(k, k + 2), 16) * (1 - f) + parseInt(b.slice(k, k + 2), 16) * f);
    return 'rgb(' + ch(1) + ',' + ch(3) + ',' + ch(5) + ')';
  }
  const layout = (title, ytitle) => ({
    title: { text: title, font: { size: 14 } },
    margin: { l: 60, r: 10, t: 36, b: 46 },
    xaxis: { title: { text: 'tokens' }, type: 'log', exponentformat: 'SI' },
    yaxis: { title: { text: ytitle } },
    showlegend: false,
    uirevision: 'keep',
  });
  function render(s) {
    document.title = s.sweep + ' · moelab dashboard';
    $('title').textContent = s.sweep + ' (' + s.kind + ')';
    const c = s.counts;
    $('status').textContent =
      c.done + '/' + s.total + ' done · ' + c.running + ' running · ' + c.pending + ' pending · ' + c.failed + ' failed · ' + c.diverged +
      ' diverged · sweep ETA ' + dur(s.etaSeconds) + ' · updated ' + new Date(s.generatedAt).toLocaleTimeString();
    const body = $('runs').tBodies[0];
    const rows = s.runs.map((r) => {
      const tr = document.createElement('tr');
      tr.dataset.runId = r.runId;
      tr.dataset.state = r.state;
      const cells = [r.runId, r.state, (r.step === null ? 0 : r.step) + '/' + r.steps, fmt(r.trainLoss), fmt(r.valLoss),
        r.tokensPerSec === null ? '–' : Math.round(r.tokensPerSec).toLocaleString('en-US'), r.state === 'running' ? dur(r.etaSeconds) : r.state === 'pending' ? '' : '–'];
      cells.forEach((text, i) => {
        const td = document.createElement('td');
        td.textContent = text;
        if (i === 1) td.className = 'state-' + r.state;
        if (i === 0 && r.detail) td.title = r.detail;
        tr.appendChild(td);
      });
      return tr;
    });
    body.replaceChildren(...rows);
    const sizes = s.curves.map((k) => k.activatedParams).filter((n) => n > 0);
    const lo = Math.min(...sizes), hi = Math.max(...sizes);
    const traces = (which) => s.curves.filter((k) => k[which].length > 0).map((k) => ({
      type: 'scatter', mode: k[which].length > 1 ? 'lines' : 'markers', name: k.runId,
      x: k[which].map((p) => p[0]), y: k[which].map((p) => p[1]),
      line: { color: colourOf(k.activatedParams, lo, hi), width: 1.5 }, marker: { color: colourOf(k.activatedParams, lo, hi) },
      hovertemplate: k.runId + '<br>N=' + sci(k.activatedParams) + (k.budgetFlops ? ' C=' + sci(k.budgetFlops) : '') + '<br>%{x:.3s} tokens, loss %{y:.4f}<extra></extra>',
    }));
    if (window.Plotly) {
      Plotly.react('fig-train', traces('train'), layout('training loss (colour: activated params, dark = large)', 'train loss (nats/token)'));
      Plotly.react('fig-val', traces('val'), layout('validation loss', 'val loss (nats/token)'));
      const usage = s.usage.slice(0, 12).map((u) => ({ type: 'bar', name: u.runId, x: u.usage.map((_, i) => 'e' + i), y: u.usage, hovertemplate: u.runId + ' %{x}: %{y:.3f}<extra></extra>' }));
      Plotly.react('fig-usage', usage, {
        title: { text: 'expert usage (latest step, routed share per expert)', font: { size: 14 } },
        margin: { l: 50, r: 10, t: 36, b: 40 }, barmode: 'group', showlegend: false, yaxis: { title: { text: 'share' } }, uirevision: 'keep',
      });
    }
    $('fit').textContent = s.fit.message + (s.fit.a !== undefined && s.fit.a !== null ? ' · N_opt ∝ C^' + fmt(s.fit.a) + ', D_opt ∝ C^' + fmt(s.fit.b) : '');
    $('fit').dataset.status = s.fit.status;
    const fitBody = $('fit-table').tBodies[0];
    fitBody.replaceChildren(...(s.fit.budgets || []).map((b) => {
      const tr = document.createElement('tr');
      for (const text of ['C = ' + sci(b.budget), b.sizes + ' sizes', 'N_opt ' + sci(b.N_opt), 'L_min ' + fmt(b.L_min)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      }
      return tr;
    }));
  }
  async function poll() {
    try {
      const res = await fetch('/api/state', { cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status + ': ' + (await res.text()));
      render(await res.json());
      $('error').textContent = '';
      document.body.dataset.updates = String(Number(document.body.dataset.updates) + 1);
    } catch (err) {
      $('error').textContent = 'cannot reach the dashboard server (' + err.message + '); retrying';
    }
    setTimeout(poll, POLL_MS);
  }
  poll();
})();
</script>
</body>
</html>
`;
}
