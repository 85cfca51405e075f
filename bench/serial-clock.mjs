#!/usr/bin/env node
// How late does a serial byte get its timestamp? The built-in guest's heartbeats are stamped
// on arrival, and the main event loop is busy exactly at the switchover. This compares four
// readers of one unix socket: the main loop (migdown before issue 14), a worker thread (what
// src/guest/serial-listener.ts does now), a separate reader process, and that process at
// nice -10 (works only with CAP_SYS_NICE, e.g. as root).
//
// A writer process plays the guest: one byte every PERIOD_US on a unix socket, each byte's
// send time (process.hrtime, CLOCK_MONOTONIC, shared by all processes) recorded. The parent's
// main loop is kept busy like a trial's: a synchronous burst of BUSY_MS every BUSY_EVERY_MS
// (JSON parsing, as when replies and progress arrive), and LOAD_PROCS spinning processes
// compete for the CPUs (QEMU's threads in a trial). Lateness = stamp - send, per byte.
//
//   node bench/serial-clock.mjs            (results: docs/benchmarks.md, "Serial timestamps")
// Env: PERIOD_US (1000), SECONDS (5), BUSY_MS (5), BUSY_EVERY_MS (20), LOAD_PROCS (2)

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

const PERIOD_US = Number(process.env.PERIOD_US ?? 1000);
const SECONDS = Number(process.env.SECONDS ?? 5);
const BUSY_MS = Number(process.env.BUSY_MS ?? 5);
const BUSY_EVERY_MS = Number(process.env.BUSY_EVERY_MS ?? 20);
const LOAD_PROCS = Number(process.env.LOAD_PROCS ?? 2);

// The reader: listens, stamps each chunk with hrtime, reports [count, stamp] pairs.
const READER = `
const net = require('node:net');
let port;
try { port = require('node:worker_threads').parentPort; } catch {}
const send = port ? (m) => port.postMessage(m) : (m) => process.send(m);
const on = port ? (f) => port.on('message', f) : (f) => process.on('message', f);
on((m) => {
  if (m.op !== 'listen') return;
  const stamps = [];
  const server = net.createServer((s) => {
    s.on('data', (d) => stamps.push([d.length, process.hrtime.bigint()]));
    s.on('end', () => { send({ op: 'done', stamps }); server.close(); });
  });
  server.listen(m.path, () => send({ op: 'listening' }));
});
`;

const WRITER = `
const net = require('node:net');
const [path, periodUs, seconds] = process.argv.slice(1);
const n = Math.round(Number(seconds) * 1e6 / Number(periodUs));
const sock = net.connect(path, () => {
  const sent = [];
  const t0 = process.hrtime.bigint();
  let i = 0;
  const step = BigInt(Math.round(Number(periodUs) * 1000));
  const tick = () => {
    // spin to the deadline: a guest's beat is as punctual as its TSC
    while (i < n) {
      const due = t0 + BigInt(i) * step;
      const now = process.hrtime.bigint();
      if (now < due) { if (due - now > 2000000n) return setTimeout(tick, 1); continue; }
      sent.push(String(process.hrtime.bigint()));
      sock.write(Buffer.of(0x80 | (i & 0x7f)));
      i++;
    }
    sock.end();
    process.stdout.write(JSON.stringify(sent));
  };
  tick();
});
`;

function busyLoop() {
  const until = performance.now() + BUSY_MS;
  let x = 0;
  while (performance.now() < until) x += JSON.parse(JSON.stringify({ a: [1, 2, 3], b: 'info migrate' })).a.length;
  return x;
}

async function runWith(kind) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'serial-clock-'));
  const sock = path.join(dir, 's');
  let stampsP;
  let cleanup = () => {};
  if (kind === 'main') {
    stampsP = new Promise((resolve, reject) => {
      const stamps = [];
      const server = net.createServer((s) => {
        s.on('data', (d) => stamps.push([d.length, process.hrtime.bigint()]));
        s.on('end', () => {
          server.close();
          resolve(stamps);
        });
      });
      server.on('error', reject);
      server.listen(sock);
    });
    await new Promise((r) => setTimeout(r, 20));
  } else {
    const endpoint =
      kind === 'worker'
        ? new Worker(READER, { eval: true })
        : spawn(process.execPath, ['-e', READER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    if (kind === 'process-nice') {
      try {
        os.setPriority(endpoint.pid, -10);
      } catch (err) {
        console.error(`(nice -10 refused: ${err.message})`);
      }
    }
    const post = (m) => (kind === 'worker' ? endpoint.postMessage(m) : endpoint.send(m));
    stampsP = new Promise((resolve) => {
      endpoint.on('message', (m) => {
        if (m.op === 'done') resolve(m.stamps);
      });
    });
    const listening = new Promise((resolve) => endpoint.once('message', resolve));
    post({ op: 'listen', path: sock });
    await listening;
    cleanup = () => (kind === 'worker' ? endpoint.terminate() : endpoint.kill());
  }
  const load = Array.from({ length: LOAD_PROCS }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  const writer = spawn(process.execPath, ['-e', WRITER, sock, String(PERIOD_US), String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  writer.stdout.on('data', (d) => (out += d));
  const busy = setInterval(busyLoop, BUSY_EVERY_MS);
  const stamps = await stampsP;
  clearInterval(busy);
  await new Promise((r) => writer.on('close', r));
  for (const p of load) p.kill();
  cleanup();
  rmSync(dir, { recursive: true, force: true });
  const sent = JSON.parse(out).map(BigInt);
  // Each chunk's stamp belongs to every byte in it.
  const late = [];
  let i = 0;
  for (const [count, at] of stamps) for (let k = 0; k < count; k++, i++) late.push(Number(at - sent[i]) / 1e6);
  late.sort((a, b) => a - b);
  const q = (p) => late[Math.min(late.length - 1, Math.floor(p * late.length))];
  const merged = late.length - stamps.length;
  return { kind, bytes: late.length, chunks: stamps.length, merged, p50: q(0.5), p99: q(0.99), max: late.at(-1), over1ms: late.filter((x) => x > 1).length };
}

const kinds = (process.env.KINDS ?? 'main,worker,process,process-nice').split(',');
console.log(`period ${PERIOD_US} us, ${SECONDS} s, main loop busy ${BUSY_MS} ms every ${BUSY_EVERY_MS} ms, ${LOAD_PROCS} spinning processes, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}`);
console.log('reader        bytes  chunks merged   p50 ms   p99 ms   max ms  late>1ms');
for (const kind of kinds) {
  const r = await runWith(kind);
  console.log(
    `${r.kind.padEnd(13)} ${String(r.bytes).padStart(5)} ${String(r.chunks).padStart(7)} ${String(r.merged).padStart(6)} ${r.p50.toFixed(3).padStart(8)} ${r.p99.toFixed(3).padStart(8)} ${r.max.toFixed(3).padStart(8)} ${String(r.over1ms).padStart(9)}`,
  );
}
