// node_bench.js — the C benchmarks' workloads in Node.js, written the way a
// Node programmer would: promises, a small hand-written limiter,
// Promise.all, a completion loop, libuv's thread pool through crypto.
//
//     node bench/node_bench.js fanout N LIMIT
//     node bench/node_bench.js order gather|as_completed N
//     node bench/node_bench.js offload N DEPTH
//
// Run by tools/bench.sh (a peer, like asyncio_bench.py). Each command prints
// one line in the C programs' format (bench/bench.h), variant "node" (with
// the C variant's name after a dash where there are several).
//
// The operation is the C benchmarks' zero-delay job: a promise settled on a
// later turn of the loop (setImmediate), Node's closest thing to ap_soon.
'use strict';
const crypto = require('crypto');

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

async function main(argv) {
  const bench = argv[0];
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
    console.error('usage: node_bench.js fanout|order|offload ...');
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

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(1);
});
