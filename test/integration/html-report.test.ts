// The HTML report of a recorded compare (test/fixtures/results/compare-small.jsonl), first read
// as text (self-contained, escaped, complete), then opened the way a reader opens it: in headless
// Chromium, which must load nothing but the page itself, log no console error, and draw it.
// The browser part needs Debian's chromium (`apt-get install -y chromium`); without
// /usr/bin/chromium it is skipped, and says why.

import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseResults } from '../../src/trial/results-read.js';
import type { RecordedReference, RunHeader, TrialRecord } from '../../src/trial/types.js';
import { renderHtmlReport } from '../../src/render/html-report.js';
import { escapeHtml } from '../../src/render/html-tables.js';
import { analyze } from '../../src/stats/analysis.js';

const FIXTURE = new URL('../fixtures/results/compare-small.jsonl', import.meta.url);
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const NO_CHROMIUM = `${CHROMIUM} is not installed (apt-get install -y chromium)`;

/** The flags every launch uses: no sandbox (root in CI), and nothing that talks to the network. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const REFERENCE = [
  {
    source: 'Liang Li, [Qemu-devel] [v2 RESEND 0/4] Fix long vm downtime during live migration, 2015-11-02',
    url: 'https://lists.gnu.org/archive/html/qemu-devel/2015-11/msg00103.html?a=1&b=2',
    metric: 'qemu-downtime',
    values: { 'without this patch': 35, 'with this patch': 4 },
  },
  { source: 'a source with a javascript: link', url: 'javascript:alert(1)', values: { 'with this patch': 5 }, note: 'among <other> changes' },
];

function load(): { header: RunHeader; trials: TrialRecord[] } {
  const content = parseResults(readFileSync(FIXTURE, 'utf8'));
  const header = content.headers[0]!;
  header.config.reference = REFERENCE as RecordedReference[];
  return { header, trials: content.trials };
}

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'migdown-html-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  // Keep the screenshot when asked to, to look at it (MIGDOWN_KEEP_SCREENSHOT=1).
  if (process.env['MIGDOWN_KEEP_SCREENSHOT']) return;
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let pageCache: string | undefined;
async function page(): Promise<string> {
  const { header, trials } = load();
  pageCache ??= await renderHtmlReport(header, analyze(header, trials));
  return pageCache;
}

describe('HTML report, as text', () => {
  it('is one self-contained page: no script, stylesheet, font, image or frame to fetch', async () => {
    const html = await page();
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<iframe|<object|<embed|<img|<image|<use\b|@import|@font-face/i);
    expect(html).not.toMatch(/\ssrc\s*=/i);
    // url() only for ids inside the page's own SVG
    expect([...html.matchAll(/url\(([^)]*)\)/g)].map((m) => m[1]).filter((u) => !u!.startsWith('#'))).toEqual([]);
    // web addresses in attributes: the SVG namespaces, and the one reference, which is a link
    const attrs = [...html.matchAll(/\s([\w:-]+)="([^"]*:\/\/[^"]*)"/g)].map((m) => `${m[1]}=${m[2]}`);
    expect(new Set(attrs)).toEqual(
      new Set([
        'xmlns=http://www.w3.org/2000/svg',
        'xmlns:xlink=http://www.w3.org/1999/xlink',
        'href=https://lists.gnu.org/archive/html/qemu-devel/2015-11/msg00103.html?a=1&amp;b=2',
      ]),
    );
    expect(html).toContain('<a href="https://lists.gnu.org/archive/html/qemu-devel/2015-11/msg00103.html?a=1&amp;b=2">');
    // the javascript: address is shown as text (in the config), never linked
    expect(html).not.toMatch(/href="\s*javascript:/i);
  });

  it('has the summary table with the same wording as the other formats', async () => {
    const html = await page();
    expect(html).toContain('<h1>Migration downtime: without this patch vs with this patch</h1>');
    expect(html).toContain('256 MiB RAM, 1 vCPU, KVM, QEMU 7.2.22');
    for (const cell of ['<th scope="col">without this patch</th>', '<th scope="col">with this patch</th>', '<strong>27ms</strong>', '1-54ms', '1-45ms', 'baseline', '0ms (0.0%)', '-28 to 35ms', '0.968', 'not significant', '112ms', '96ms']) {
      expect(html).toContain(cell);
    }
    expect(html).toContain('percentile-bootstrap CI (10000 resamples, seed 955556536)');
  });

  it('sets the published figures beside the measured medians', async () => {
    const html = await page();
    const ref = html.slice(html.indexOf('<section id="reference">'), html.indexOf('</section>', html.indexOf('<section id="reference">')));
    expect(ref).toContain('<caption>QEMU downtime: measured here and published</caption>');
    expect(ref).toContain('<th scope="col">measured median</th>');
    expect(ref).toContain('published: <a href=');
    expect(ref).toContain('published: a source with a javascript: link</th>');
    // "with this patch": measured 27ms, published 4ms and 5ms
    expect(ref).toMatch(/<th scope="row">with this patch<\/th><td><strong>27ms<\/strong><\/td><td>4ms <span class="muted">\(measured \+23ms, \+575\.0%\)<\/span><\/td><td>5ms/);
    expect(ref).toContain('among &lt;other&gt; changes');
  });

  it('has the charts inline and the run metadata', async () => {
    const html = await page();
    expect(html.match(/<figure class="chart"/g)).toHaveLength(11);
    expect(html.match(/<svg xmlns=/g)).toHaveLength(11);
    const { header } = load();
    const q = header.variants[0]!.qemu;
    for (const fact of [q.versionLine, q.sha256!, q.path, header.host.hostname, header.host.cpuModel, header.host.kernel, header.runId, header.createdAt, 'KVM', 'max-bandwidth=8M', '"seed": 955556536']) {
      expect(html).toContain(escapeHtml(fact));
    }
    expect(html).toContain('<th scope="row">migdown version</th><td>0.1.0</td>');
  });

  it('escapes everything that came from the results file', async () => {
    const { header, trials } = load();
    const evil = '<img src=x onerror=alert(1)>';
    header.variants[1]!.label = evil;
    header.host.hostname = `${evil}"`;
    (header.config as Record<string, unknown>)['note'] = `</pre><script>alert(1)</script>`;
    const ts = trials.map((t) => (t.variant === 'with this patch' ? { ...t, variant: evil } : t));
    ts[0] = { ...ts[0]!, status: 'failed', reason: '<b>boom</b> & "quotes"' };
    const html = await renderHtmlReport(header, analyze(header, ts));
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b>boom');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('<code>&lt;b&gt;boom&lt;/b&gt; &amp; &quot;quotes&quot;</code>');
  });

  it('leaves out malformed reference figures of a hand-edited file instead of failing', async () => {
    const { header, trials } = load();
    (header.config as Record<string, unknown>)['reference'] = [null, 'x', { source: 1, values: { a: 1 } }, { source: 's', values: { a: 'NaN' } }, { source: 's', metric: 'bogus', values: { a: 1 } }];
    const html = await renderHtmlReport(header, analyze(header, trials));
    expect(html).not.toContain('id="reference"');
    (header.config as Record<string, unknown>)['reference'] = [{ source: 'kept', values: { 'with this patch': 3, broken: 'x' } }];
    const kept = await renderHtmlReport(header, analyze(header, trials));
    expect(kept).toContain('published: kept</th>');
    expect(kept).not.toContain('<th scope="row">broken</th>');
  });

  it('reports a plain run, and a run with no trials, without a comparison', async () => {
    const { header, trials } = load();
    const run: RunHeader = { ...header, command: 'run', variants: [{ ...header.variants[0]!, label: 'run' }], config: { ...header.config, reference: undefined } };
    const ts = trials.filter((t) => t.variant === 'without this patch').map((t) => ({ ...t, variant: 'run' }));
    const html = await renderHtmlReport(run, analyze(run, ts));
    expect(html).toContain('<h1>Migration downtime: migdown run</h1>');
    expect(html).not.toContain('Mann-Whitney');
    expect(html).not.toContain('id="reference"');
    const empty = await renderHtmlReport(run, analyze(run, []));
    expect(empty).toContain('no trials');
    expect(empty).not.toContain('<figure');
  });
});

interface BrowserEvent {
  kind: string;
  text: string;
}

/** Opens `url` in headless Chromium via playwright-core and returns what the page did. */
async function openInChromium(url: string): Promise<{ events: BrowserEvent[]; requests: string[]; svgBoxes: Array<{ width: number; height: number }> }> {
  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(tmp(), {
    executablePath: CHROMIUM,
    headless: true,
    // playwright passes its own --headless and --user-data-dir (the fresh directory above)
    args: FLAGS.filter((f) => f !== '--headless'),
    viewport: { width: 1200, height: 2000 },
  });
  try {
    const tab = await context.newPage();
    const events: BrowserEvent[] = [];
    const requests: string[] = [];
    tab.on('console', (m) => events.push({ kind: `console.${m.type()}`, text: m.text() }));
    tab.on('pageerror', (err) => events.push({ kind: 'pageerror', text: String(err) }));
    tab.on('requestfailed', (r) => events.push({ kind: 'requestfailed', text: `${r.url()} ${r.failure()?.errorText ?? ''}` }));
    tab.on('request', (r) => requests.push(r.url()));
    await tab.goto(url, { waitUntil: 'load' });
    const svgBoxes = await tab.locator('figure.chart svg').evaluateAll((els) =>
      els.map((el) => {
        const r = el.getBoundingClientRect();
        return { width: r.width, height: r.height };
      }),
    );
    return { events, requests, svgBoxes };
  } finally {
    await context.close();
  }
}

describe.skipIf(!hasChromium)(`HTML report in headless Chromium${hasChromium ? '' : ` (skipped: ${NO_CHROMIUM})`}`, () => {
  it('notices console errors and requests when there are some (checks the check)', async () => {
    const dir = tmp();
    const file = path.join(dir, 'control.html');
    writeFileSync(file, '<!DOCTYPE html><title>c</title><p>control</p><img src="http://127.0.0.1:9/x.png"><script>console.error("control error")</script>');
    const { events, requests } = await openInChromium(pathToFileURL(file).href);
    expect(events).toContainEqual({ kind: 'console.error', text: 'control error' });
    expect(requests).toContain('http://127.0.0.1:9/x.png');
  });

  it('loads nothing but itself, logs no error, and draws every chart', async () => {
    const dir = tmp();
    const file = path.join(dir, 'report.html');
    writeFileSync(file, await page());
    const url = pathToFileURL(file).href;
    const { events, requests, svgBoxes } = await openInChromium(url);
    expect(events).toEqual([]);
    expect(requests).toEqual([url]);
    expect(svgBoxes).toHaveLength(11);
    for (const box of svgBoxes) {
      expect(box.width).toBeGreaterThan(200);
      expect(box.height).toBeGreaterThan(100);
    }
  });

  it('takes a screenshot of the page with the flags a reader would use', async () => {
    const dir = tmp();
    const file = path.join(dir, 'report.html');
    const png = path.join(dir, 'report.png');
    writeFileSync(file, await page());
    const r = await execa(
      CHROMIUM,
      [...FLAGS, `--user-data-dir=${path.join(dir, 'profile')}`, '--enable-logging=stderr', '--v=0', `--screenshot=${png}`, '--window-size=1200,2000', pathToFileURL(file).href],
      { reject: false, timeout: 90_000, stdin: 'ignore', cwd: dir },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    // The page has no script, so any console line (Chromium logs them as INFO:CONSOLE) is wrong.
    expect(r.stderr.split('\n').filter((l) => /:CONSOLE[:(]/.test(l))).toEqual([]);
    if (process.env['MIGDOWN_KEEP_SCREENSHOT']) console.log(`screenshot: ${png}`);
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    // IHDR: the window size asked for
    expect(bytes.readUInt32BE(16)).toBe(1200);
    expect(bytes.readUInt32BE(20)).toBe(2000);
    // A blank 1200x2000 page compresses to a few KiB; tables, text and charts do not.
    expect(statSync(png).size).toBeGreaterThan(60_000);
  });
});
