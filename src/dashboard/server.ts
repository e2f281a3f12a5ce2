// `moelab dashboard DIR`: a small HTTP server on localhost that follows a sweep while it runs.
//
//   GET /            the page (src/dashboard/page.ts), which polls /api/state
//   GET /api/state   the snapshot (src/dashboard/snapshot.ts) as JSON; recomputed at most every
//                    `minIntervalMs`, metric files re-read only when they changed
//   GET /plotly.js   the Plotly bundle the report inlines (plotly.js-dist-min), so the page needs
//                    no network
//
// It only reads the sweep folder: it can run beside `moelab sweep`, before it (pending runs) and
// after it, and several dashboards can watch one sweep. JSON uses null for missing and
// non-finite numbers (JSON has no NaN).
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { sweepPaths } from '../io/results.ts';
import { readPlan } from '../sweep/state.ts';
import { MetricsCache } from '../sweep/tracking.ts';
import { dashboardPageHtml } from './page.ts';
import { dashboardSnapshot, type DashboardSnapshot } from './snapshot.ts';

export interface DashboardOptions {
  sweepDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1: the dashboard is for this machine (use an SSH tunnel from elsewhere). */
  host?: string;
  /** How often the page polls (default 1000 ms). */
  pollMs?: number;
  /** Minimum age of a cached snapshot before it is recomputed (default 250 ms). */
  minIntervalMs?: number;
}

export interface Dashboard {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** JSON with NaN and ±Infinity as null. */
export function snapshotJson(snapshot: DashboardSnapshot): string {
  return JSON.stringify(snapshot, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}

let plotlyBundle: string | undefined;
function plotly(): string {
  plotlyBundle ??= readFileSync(createRequire(import.meta.url).resolve('plotly.js-dist-min'), 'utf8');
  return plotlyBundle;
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const sweepDir = sweepPaths(options.sweepDir).dir;
  const plan = readPlan(sweepPaths(sweepDir).plan); // fails here, with the fix, when there is no plan
  const cache = new MetricsCache();
  const minInterval = options.minIntervalMs ?? 250;
  let cached: { at: number; json: string } | undefined;
  const page = dashboardPageHtml({ pollMs: options.pollMs ?? 1000, title: plan.sweep });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    try {
      if (req.method !== 'GET') return send(405, 'text/plain', 'GET only');
      if (url.pathname === '/') return send(200, 'text/html; charset=utf-8', page);
      if (url.pathname === '/plotly.js') return send(200, 'text/javascript; charset=utf-8', plotly());
      if (url.pathname === '/api/state') {
        if (!cached || Date.now() - cached.at >= minInterval) cached = { at: Date.now(), json: snapshotJson(dashboardSnapshot(sweepDir, cache)) };
        return send(200, 'application/json', cached.json);
      }
      return send(404, 'text/plain', 'not found');
    } catch (err) {
      return send(500, 'text/plain', (err as Error).message);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}/`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
