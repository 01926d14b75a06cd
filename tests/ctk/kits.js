// Runs TM Forum conformance kits for tests/ctk/newman.py with newman's library, one kit after
// another in this one process: a test process loads newman once, not once per kit (the CLI's start
// cost about 1 CPU-second, most of a small kit's run).
// stdin: one request per line, JSON {collection, environment, envVar: {name: value}}, the files'
// paths as the CLI takes them. stdout: one JSON line per request, when its run has ended:
// {requests, assertions, failures: ["<request>: <test> <message>", ...], output} (output: what the
// CLI reporter printed) or {error, output}.
'use strict';

const readline = require('readline');
const newman = require('newman');

const write = process.stdout.write.bind(process.stdout);
const waiting = [];
let running = false;

function next() {
  if (running || waiting.length === 0) {
    return;
  }
  running = true;
  const request = JSON.parse(waiting.shift());
  const output = [];
  // the CLI reporter writes to stdout: kept for the reply instead
  process.stdout.write = (chunk, encoding, callback) => {
    output.push(String(chunk));
    const done = typeof encoding === 'function' ? encoding : callback;
    if (done) {
      done();
    }
    return true;
  };
  newman.run({
    collection: request.collection,
    environment: request.environment,
    envVar: Object.entries(request.envVar).map(([key, value]) => ({ key, value })),
    reporters: ['cli'],
    timeoutRequest: 30000,
    color: 'off',
  }, (err, summary) => {
    process.stdout.write = write;
    const reply = err ? { error: String((err && err.stack) || err), output: output.join('') } : {
      requests: summary.run.stats.requests.total,
      assertions: summary.run.stats.assertions.total,
      failures: summary.run.failures.map((f) => `${f.source && f.source.name}: ${(f.error && f.error.test) || ''} `
        + `${f.error && f.error.message}`),
      output: output.join(''),
    };
    write(`${JSON.stringify(reply)}\n`);
    running = false;
    next();
  });
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  waiting.push(line);
  next();
});
