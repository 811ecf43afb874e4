// node_bench.js — the C benchmarks' workloads in Node.js, written the way a
// Node programmer would: promises, a small hand-written limiter,
// Promise.all, a completion loop, libuv's thread pool through crypto.
//
//     node bench/node_bench.js fanout N LIMIT
//     node bench/node_bench.js order gather|as_completed N
//     node bench/node_bench.js offload N DEPTH
//     node bench/node_bench.js server INFLIGHT QUEUED WORK_MS
//
// Run by tools/bench.sh (a peer, like asyncio_bench.py). Each command prints
// one line in the C programs' format (bench/bench.h), variant "node" (with
// the C variant's name after a dash where there are several).
//
// The operation is the C benchmarks' zero-delay job: a promise settled on a
// later turn of the loop (setImmediate), Node's closest thing to ap_soon.
//
// server is chapter 07's line server (solutions/07-server-side/srv.h) as
// Node writes it, for the overload generator (bench/overload.c), which
// measures it from outside: it prints its port and serves until SIGTERM.
// Its blocking part runs on worker_threads, Node's way to take blocking
// work off the loop.
'use strict';
const crypto = require('crypto');
const net = require('net');
const { once } = require('events');
const { Worker, isMainThread, parentPort } = require('worker_threads');

function zeroDelay(value) {
  return new Promise((resolve) => setImmediate(resolve, value));
}

// A limiter as one writes it without a library: a count and a FIFO of
// waiters (an array read from a moving head: shift() would copy it each
// time); a release hands its slot to the first waiter.
function limiter(limit) {
  let active = 0;
  let head = 0;
  const waiting = [];
  const release = () => {
    if (head < waiting.length) {
      const next = waiting[head];
      waiting[head++] = undefined;
      next();
    } else {
      active--;
    }
  };
  return async (fn) => {
    if (active < limit) active++;
    else await new Promise((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      release();
    }
  };
}

async function fanout(n, limit) {
  const run = limiter(limit);
  const jobs = new Array(n);
  for (let i = 0; i < n; i++) jobs[i] = run(() => zeroDelay(i));
  const results = await Promise.all(jobs);
  if (results[n - 1] !== n - 1) throw new Error('fanout: wrong result');
}

// as_completed: each settled promise pushes to a queue the loop drains.
async function order(variant, n) {
  const jobs = new Array(n);
  for (let i = 0; i < n; i++) jobs[i] = zeroDelay(i);
  if (variant === 'gather') {
    const results = await Promise.all(jobs);
    if (results[n - 1] !== n - 1) throw new Error('order: wrong result');
    return;
  }
  const done = [];
  let taken = 0;
  let wake = null;
  for (const job of jobs)
    job.then((v) => {
      done.push(v);
      if (wake) wake();
    });
  for (let k = 0; k < n; k++) {
    while (taken === done.length) await new Promise((resolve) => (wake = resolve));
    taken++;
  }
}

// A tiny job on libuv's pool: pbkdf2 with one iteration, the cheapest pool call.
function tinyOnPool(value) {
  return new Promise((resolve, reject) =>
    crypto.pbkdf2('x', 's', 1, 8, 'sha1', (err) => (err ? reject(err) : resolve(value))));
}

async function offload(n, depth) {
  let left = n;
  const worker = async () => {
    while (left > 0) {
      const value = --left;
      if ((await tinyOnPool(value)) !== value) throw new Error('offload: wrong result');
    }
  };
  const workers = [];
  for (let i = 0; i < Math.min(depth, n); i++) workers.push(worker());
  await Promise.all(workers);
}

// ---- chapter 07's server ---------------------------------------------------

// The limits srvd.c gives lab 07's server (ms; a line with its newline).
const IDLE_MS = 2000, REQUEST_MS = 10000, DRAIN_MS = 1000, LINE_MAX = 1024, POOL = 4;

// A worker: says it is ready, then for each ms it is sent blocks that long
// (a blocking call) and answers.
function poolWorker() {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  parentPort.on('message', (ms) => {
    Atomics.wait(cell, 0, 0, ms);
    parentPort.postMessage('done');
  });
  parentPort.postMessage('ready');
}

// POOL workers and a FIFO of jobs: run(ms) resolves with the worker's answer.
// ready: every worker is up (a server that prints its port is ready to serve).
function workerPool(size) {
  const idle = [], jobs = [], workers = [];
  let closed = false;
  const next = (w) => {
    if (closed) return w.terminate();
    const job = jobs.shift();
    if (!job) return idle.push(w);
    w.once('message', (answer) => {
      job.resolve(answer);
      next(w);
    });
    w.postMessage(job.ms);
  };
  for (let i = 0; i < size; i++) workers.push(new Worker(__filename));
  workers.forEach(next);
  return {
    ready: Promise.all(workers.map((w) => once(w, 'message'))),
    run: (ms) =>
      new Promise((resolve) => {
        jobs.push({ ms, resolve });
        if (idle.length) next(idle.pop());
      }),
    close: () => {
      closed = true;
      idle.splice(0).forEach((w) => w.terminate());
    },
  };
}

// Admission: a counter of requests in flight and a bounded FIFO of waiters;
// a release hands its slot to the first waiter.
function admission(inflight, queued) {
  let active = 0;
  const waiting = [];
  return {
    // true: admitted; a waiter: in line, admitted when waiter.granted
    // resolves; false: refused at once.
    admit() {
      if (active < inflight) {
        active++;
        return true;
      }
      if (waiting.length >= queued) return false;
      const waiter = {};
      waiter.granted = new Promise((resolve) => (waiter.grant = resolve));
      waiting.push(waiter);
      return waiter;
    },
    // Leaves the line; false when the slot was granted already.
    leave(waiter) {
      const i = waiting.indexOf(waiter);
      if (i >= 0) waiting.splice(i, 1);
      return i >= 0;
    },
    release() {
      const next = waiting.shift();
      if (next) next.grant();
      else active--;
    },
  };
}

const TIMEOUT = Symbol('timeout');

// The answer line to one request, within REQUEST_MS of its start. A timed-out
// worker call still runs to its end (a thread cannot be stopped), then releases.
async function answer(gate, pool, workMs) {
  const ticket = gate.admit();
  if (!ticket) return 'BUSY\n'; // load shedding: refused at once
  let timer;
  const deadline = new Promise((resolve) => (timer = setTimeout(resolve, REQUEST_MS, TIMEOUT)));
  try {
    if (ticket !== true && (await Promise.race([ticket.granted, deadline])) === TIMEOUT) {
      if (!gate.leave(ticket)) gate.release();
      return 'ERR timeout\n';
    }
    const work = pool.run(workMs).finally(() => gate.release());
    const text = await Promise.race([work, deadline]);
    return text === TIMEOUT ? 'ERR timeout\n' : `${text}\n`;
  } catch {
    return 'ERR failed\n';
  } finally {
    clearTimeout(timer);
  }
}

async function server(inflight, queued, workMs) {
  const gate = admission(inflight, queued), pool = workerPool(POOL), conns = new Set();
  let stopping = false;
  await pool.ready;
  const srv = net.createServer((socket) => {
    const conn = { socket, busy: false };
    conns.add(conn);
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    socket.on('error', () => {});
    socket.on('close', () => conns.delete(conn));
    serveLines(conn, gate, pool, workMs, () => stopping).catch(() => socket.destroy());
  });
  srv.listen({ host: '127.0.0.1', port: 0, backlog: 128 }, () => console.log(srv.address().port));
  const stop = () => {
    stopping = true;
    srv.close(() => pool.close());
    for (const c of conns) if (!c.busy) c.socket.end(); // busy ones end after their answer
    const drained = () => conns.forEach((c) => c.socket.destroy()); // the drain deadline
    setTimeout(drained, DRAIN_MS).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// One request at a time, one answer each, in order: the loop reads no more
// while a request runs or its answer waits to drain.
async function serveLines(conn, gate, pool, workMs, stopping) {
  const { socket } = conn;
  let buf = '';
  socket.setEncoding('latin1');
  for await (const chunk of socket) {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0 && !stopping()) {
      buf = buf.slice(nl + 1);
      conn.busy = true;
      socket.setTimeout(0);
      const line = await answer(gate, pool, workMs);
      conn.busy = false;
      if (!socket.write(line)) await once(socket, 'drain'); // write backpressure
      socket.setTimeout(IDLE_MS);
    }
    if (stopping()) return socket.end();
    if (buf.length >= LINE_MAX) return socket.end('ERR too long\n');
  }
  socket.end();
}

async function main(argv) {
  const bench = argv[0];
  if (bench === 'server') return server(+argv[1], +argv[2], +argv[3]);
  let n, param, variant, work;
  if (bench === 'fanout') {
    [n, param, variant] = [+argv[1], +argv[2], 'node'];
    work = () => fanout(n, param);
  } else if (bench === 'order') {
    [n, param, variant] = [+argv[2], 0, 'node-' + argv[1]];
    work = () => order(argv[1], n);
  } else if (bench === 'offload') {
    [n, param, variant] = [+argv[1], +argv[2], 'node'];
    work = () => offload(n, param);
  } else {
    console.error('usage: node_bench.js fanout|order|offload|server ...');
    process.exit(2);
  }
  const wall0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  await work();
  const wall = Number(process.hrtime.bigint() - wall0);
  const used = process.cpuUsage(cpu0);
  const cpu = (used.user + used.system) * 1000;
  const rss = process.resourceUsage().maxRSS;
  console.log(`${bench},${variant},${param},${n},${wall},${(wall / n).toFixed(2)},${cpu},${(cpu / n).toFixed(2)},${rss}`);
}

if (!isMainThread) {
  poolWorker();
} else {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
