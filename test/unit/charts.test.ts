// Charts from a recorded results file (test/fixtures/results/compare-small.jsonl: a real
// `migdown compare --ram 256M --smp 1 --runs 5 --warmup 0 --b-param max-bandwidth=8M` on QEMU
// 7.2), rendered to SVG in Node. "Valid" is checked the way a browser or an SVG tool would
// need it: well-formed XML with one <svg> root and a size, and the ids unique page-wide.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseResults } from '../../src/trial/results-read.js';
import type { RunHeader, TrialRecord } from '../../src/trial/types.js';
import { buildChartSpecs, jitter, namespaceSvgIds, renderChartsSvg, renderSpecSvg } from '../../src/render/charts.js';
import { analyze } from '../../src/stats/analysis.js';

const FIXTURE = new URL('../fixtures/results/compare-small.jsonl', import.meta.url);

function load(): { header: RunHeader; trials: TrialRecord[] } {
  const content = parseResults(readFileSync(FIXTURE, 'utf8'));
  expect(content.skippedLines).toEqual([]);
  return { header: content.headers[0]!, trials: content.trials };
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const XML_NAME = '[A-Za-z_:][\\w:.-]*';
const START_TAG = new RegExp(`<(${XML_NAME})((?:\\s+${XML_NAME}\\s*=\\s*(?:"[^"<]*"|'[^'<]*'))*)\\s*(/?)>`, 'y');
const ATTR = new RegExp(`(${XML_NAME})\\s*=\\s*(?:"([^"<]*)"|'([^'<]*)')`, 'g');
// XML knows five named entities; an SVG file with &nbsp; would not open on its own
const BAD_AMP = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;

interface XmlFacts {
  root: string;
  elements: Set<string>;
  attributes: Set<string>;
}

/** Throws unless `xml` is a well-formed document with a single root element. */
function checkWellFormed(xml: string): XmlFacts {
  const elements = new Set<string>();
  const attributes = new Set<string>();
  const stack: string[] = [];
  let root: string | undefined;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    if (BAD_AMP.test(text)) throw new Error(`unescaped & in text near ${JSON.stringify(text.slice(0, 60))}`);
    if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root: ${JSON.stringify(text.slice(0, 60))}`);
    if (lt < 0) break;
    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
      continue;
    }
    if (xml.startsWith('</', lt)) {
      const end = xml.indexOf('>', lt);
      const name = xml.slice(lt + 2, end).trim();
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at ${lt}`);
      i = end + 1;
      continue;
    }
    START_TAG.lastIndex = lt;
    const m = START_TAG.exec(xml);
    if (!m) throw new Error(`malformed tag at ${lt}: ${JSON.stringify(xml.slice(lt, lt + 80))}`);
    const names = new Set<string>();
    for (const a of m[2]!.matchAll(ATTR)) {
      if (names.has(a[1]!)) throw new Error(`attribute ${a[1]} twice in <${m[1]}>`);
      names.add(a[1]!);
      attributes.add(a[1]!);
      if (BAD_AMP.test(a[2] ?? a[3] ?? '')) throw new Error(`unescaped & in attribute ${a[1]} of <${m[1]}>`);
    }
    elements.add(m[1]!);
    if (stack.length === 0) {
      if (root !== undefined) throw new Error('a second root element');
      root = m[1]!;
    }
    if (m[3] !== '/') stack.push(m[1]!);
    i = lt + m[0].length;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('> <')}>`);
  if (root === undefined) throw new Error('no element');
  return { root, elements, attributes };
}

function checkSvg(svg: string): { width: number; height: number } {
  const xml = checkWellFormed(svg);
  expect(xml.root).toBe('svg');
  expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const width = Number(/^<svg[^>]*\swidth="(\d+(?:\.\d+)?)"/.exec(svg)?.[1]);
  const height = Number(/^<svg[^>]*\sheight="(\d+(?:\.\d+)?)"/.exec(svg)?.[1]);
  expect(width).toBeGreaterThan(100);
  expect(height).toBeGreaterThan(50);
  expect(svg).toMatch(/^<svg[^>]*\sviewBox="0 0 [\d.]+ [\d.]+"/);
  // nothing that would run, or be fetched, when the SVG is inlined in a page
  for (const el of ['script', 'foreignObject', 'image', 'use', 'style']) expect(xml.elements).not.toContain(el);
  expect([...xml.attributes].filter((a) => /^on/i.test(a) || /href$/i.test(a))).toEqual([]);
  return { width, height };
}

/** The points of the distribution chart: one circle per plotted trial and metric. */
function circles(svg: string): string[] {
  return [...svg.matchAll(/<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="circle"/g)].map((m) => m[1]!);
}

describe('the well-formedness check itself', () => {
  it('accepts a good document and rejects broken ones', () => {
    const facts = checkWellFormed('<svg a="1"><g><path d="M0"/></g><text>a &amp; b</text></svg>');
    expect(facts.root).toBe('svg');
    expect([...facts.elements]).toEqual(['svg', 'g', 'path', 'text']);
    expect([...facts.attributes]).toEqual(['a', 'd']);
    expect(() => checkWellFormed('<svg><g></svg>')).toThrow();
    expect(() => checkWellFormed('<svg><text>a & b</text></svg>')).toThrow(/unescaped &/);
    expect(() => checkWellFormed('<svg a="1" a="2"></svg>')).toThrow(/twice/);
    expect(() => checkWellFormed('<svg></svg><svg></svg>')).toThrow(/second root/);
    expect(() => checkWellFormed('<svg x=1></svg>')).toThrow(/malformed/);
  });
});

describe('chart specs', () => {
  it('has the distribution and one progress chart per trial with samples, and no sweep without points', () => {
    const { header, trials } = load();
    const specs = buildChartSpecs(header, analyze(header, trials));
    expect(specs.map((s) => s.name)).toEqual([
      'distribution',
      ...[1, 2, 3, 4, 5].map((i) => `progress-1-without-this-patch-${i}`),
      ...[1, 2, 3, 4, 5].map((i) => `progress-2-with-this-patch-${i}`),
    ]);
    expect(specs[0]!.title).toBe('QEMU downtime per migration');
    expect(specs[1]!.title).toBe('Migration progress: without this patch, trial 1');
  });

  it('is plain JSON with the data inline, and the same every time', () => {
    const { header, trials } = load();
    const a = buildChartSpecs(header, analyze(header, trials));
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    expect(buildChartSpecs(header, analyze(header, trials))).toEqual(a);
    for (const s of a) {
      const data = (s.spec as { data?: { values?: unknown[]; url?: string } }).data;
      expect(data?.url).toBeUndefined();
      expect(Array.isArray(data?.values)).toBe(true);
    }
  });

  it('leaves out warm-ups, failures and other runs from the distribution, but shows their progress', () => {
    const { header, trials } = load();
    const a = header.variants[0]!.label;
    const extra = clone(trials.filter((t) => t.variant === a).slice(0, 3));
    extra[0]!.warmup = true;
    extra[1]!.status = 'failed';
    extra[1]!.index = 6;
    extra[1]!.reason = 'Unable to write to socket: Broken pipe';
    extra[2]!.runId = 'another-run';
    const specs = buildChartSpecs(header, analyze(header, [...trials, ...extra]));
    const dist = specs.find((s) => s.name === 'distribution')!;
    expect((dist.spec as { data: { values: unknown[] } }).data.values).toHaveLength(10);
    const names = specs.map((s) => s.name);
    expect(names).toContain('progress-1-without-this-patch-warmup-1');
    const failed = specs.find((s) => s.name === 'progress-1-without-this-patch-6')!;
    expect(JSON.stringify(failed.spec)).toContain('failed: Unable to write to socket: Broken pipe');
    expect(names.filter((n) => n.startsWith('progress-'))).toHaveLength(12);
  });

  it('has no charts at all when nothing was recorded', () => {
    const { header } = load();
    expect(buildChartSpecs(header, analyze(header, []))).toEqual([]);
  });

  it('draws a sweep: one chart per swept key, none for a key with one value', () => {
    const { header, trials } = load();
    const h = clone(header);
    h.config['sweep'] = [0, 64, 256].map((dirtyRate) => ({ dirtyRate, ram: '256M' }));
    const swept = [0, 64, 256].flatMap((dirtyRate) =>
      clone(trials).map((t) => ({ ...t, point: { dirtyRate, ram: '256M' }, info: { ...t.info!, downtimeMs: (t.info?.downtimeMs ?? 0) + dirtyRate } })),
    );
    const specs = buildChartSpecs(h, analyze(h, swept));
    expect(specs.filter((s) => s.name.startsWith('sweep-')).map((s) => s.name)).toEqual(['sweep-dirtyrate']);
    const sweep = specs.find((s) => s.name === 'sweep-dirtyrate')!;
    const rows = (sweep.spec as { data: { values: Array<{ series: string; x: number; median: number; n: number }> } }).data.values;
    expect(rows.map((r) => [r.series, r.x, r.n])).toEqual([
      ['without this patch', 0, 5],
      ['with this patch', 0, 5],
      ['without this patch', 64, 5],
      ['with this patch', 64, 5],
      ['without this patch', 256, 5],
      ['with this patch', 256, 5],
    ]);
    expect(rows[2]!.median).toBe(rows[0]!.median + 64);
    // each point its own row of the distribution, and its own progress charts
    const dist = JSON.stringify(specs.find((s) => s.name === 'distribution')!.spec);
    expect(dist).toContain('without this patch @ dirtyRate=64, ram=256M');
    expect(specs.map((s) => s.name)).toContain('progress-2-with-this-patch-dirtyrate-256-ram-256m-5');
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
  });
});

describe('SVG rendering', () => {
  it('renders every chart of the recorded file to valid SVG, the same bytes every time', async () => {
    const { header, trials } = load();
    const charts = await renderChartsSvg(header, analyze(header, trials));
    expect(charts).toHaveLength(11);
    const ids: string[] = [];
    for (const c of charts) {
      checkSvg(c.svg);
      // the title is drawn in the chart, so an SVG file on its own says what it shows
      expect(c.svg).toContain(`>${c.title.replace(/&/g, '&amp;').replace(/</g, '&lt;')}<`);
      ids.push(...[...c.svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!));
    }
    expect(new Set(ids).size).toBe(ids.length);
    const again = await renderChartsSvg(header, analyze(header, trials));
    expect(again.map((c) => c.svg)).toEqual(charts.map((c) => c.svg));

    const dist = charts[0]!;
    expect(dist.svg).toContain('QEMU downtime');
    expect(dist.svg).not.toContain('guest-observed');
    const points = circles(dist.svg);
    expect(points).toHaveLength(10);
    // each point is described by its trial, not by the jitter that places it
    const downtimes = trials.map((t) => `${t.variant}, trial ${t.index}: ${t.info!.downtimeMs} ms`);
    expect([...points].sort()).toEqual([...downtimes].sort());

    const progress = charts[1]!;
    expect(progress.svg).toContain('remaining RAM (MiB)');
    expect(progress.svg).toContain('throughput (Mbps)');
    expect(progress.svg).toContain('ms since the trial started');
  });

  it('puts guest-observed downtime beside QEMU downtime when the guest recorded it', async () => {
    const { header, trials } = load();
    const withGuest = clone(trials).map((t) => ({ ...t, guest: { observedDowntimeMs: (t.info?.downtimeMs ?? 0) + 12 } }));
    const [dist] = buildChartSpecs(header, analyze(header, withGuest));
    expect(dist!.title).toBe('Downtime per migration: QEMU-reported and guest-observed');
    const svg = await renderSpecSvg(dist!.spec, dist!.name);
    checkSvg(svg);
    expect(svg).toContain('>guest-observed downtime<');
    expect(svg).toContain('>QEMU downtime<');
    expect(circles(svg)).toHaveLength(20);
  });

  it('escapes labels that look like markup', async () => {
    const { header, trials } = load();
    const evil = '<img src=x onerror="alert(1)"> & "co"';
    const h = clone(header);
    h.variants[0]!.label = evil;
    const ts = clone(trials).map((t) => (t.variant === header.variants[0]!.label ? { ...t, variant: evil } : t));
    const [dist, progress] = buildChartSpecs(h, analyze(h, ts));
    for (const c of [dist!, progress!]) {
      const svg = await renderSpecSvg(c.spec, c.name);
      checkSvg(svg);
      expect(svg).not.toContain('<img');
      expect(svg).toContain('&lt;img');
    }
  });

  it('gives the ids of each SVG a prefix of its own, references included', () => {
    const svg =
      '<svg><defs><clipPath id="clip3"><rect/></clipPath><linearGradient id="gradient_0"/></defs>' +
      '<g clip-path="url(#clip3)" fill="url(#gradient_0)"><use href="#clip3"/></g><g clip-path="url(#other)"/></svg>';
    expect(namespaceSvgIds(svg, 'progress-1')).toBe(
      '<svg><defs><clipPath id="progress-1-1"><rect/></clipPath><linearGradient id="progress-1-2"/></defs>' +
        '<g clip-path="url(#progress-1-1)" fill="url(#progress-1-2)"><use href="#progress-1-1"/></g><g clip-path="url(#other)"/></svg>',
    );
    expect(namespaceSvgIds('<svg/>', 'x')).toBe('<svg/>');
  });

  it('spreads jittered points without randomness', () => {
    const js = Array.from({ length: 50 }, (_, k) => jitter(k));
    for (const j of js) expect(j >= -1 && j < 1).toBe(true);
    expect(new Set(js).size).toBe(50);
    // The fractional parts of (k + 1) / phi, mapped to [-1, 1): a fixed sequence, not a random one.
    const known = [0.2360679774997898, -0.5278640450004204, 0.7082039324993694, -0.05572809000084078, -0.819660112501051];
    known.forEach((v, k) => expect(jitter(k), `jitter(${k})`).toBeCloseTo(v, 12));
  });
});

describe('pause breakdown chart', () => {
  it('stacks the median of each phase per variant, from a compare recorded with QEMU 10.0 tracepoints', async () => {
    const content = parseResults(readFileSync(new URL('../fixtures/results/compare-breakdown.jsonl', import.meta.url), 'utf8'));
    const header = content.headers[0]!;
    const specs = buildChartSpecs(header, analyze(header, content.trials));
    const chart = specs.find((s) => s.name === 'breakdown');
    expect(chart).toBeDefined();
    const values = (chart!.spec as unknown as { data: { values: Array<{ variant: string; phase: string; ms: number }> } }).data.values;
    expect(new Set(values.map((v) => v.variant))).toEqual(new Set(['without this patch', 'with this patch']));
    expect(values.some((v) => v.phase === 'destination finishes loading')).toBe(true);
    const svg = (await renderChartsSvg(header, analyze(header, content.trials))).find((c) => c.name === 'breakdown')!.svg;
    expect(svg.startsWith('<svg')).toBe(true);
    // no breakdown chart without tracepoints
    const small = parseResults(readFileSync(FIXTURE, 'utf8'));
    expect(buildChartSpecs(small.headers[0]!, analyze(small.headers[0]!, small.trials)).some((s) => s.name === 'breakdown')).toBe(false);
  });
});
