'use strict';
// The app of the kubectl-nodeapp sandbox's real Node.js containers (Node.js built-ins only).
//
// HTTP on PORT (default 3000): /healthz (200, 503 while shutting down or while the
// database is down), /readyz, /api/orders, /api/users/:id, /api/traces/:id, /api/services.
// JSON logs on stdout in the winston + Cloud Logging shape ("severity", "message",
// "timestamp", fields, "seq" last), pino for trace-ui; a request log per request and
// background lines at --log-rate per second. Graceful SIGTERM unless the image ignores it.
//
// The sandbox's kubelet starts it as `node [--inspect-port=HOST:9229] server.js --app APP
// --process web|worker|clock --fault FAULT --commit TAG --host HOST --time-scale X
// --log-rate N --namespace NS` (noderuntime.py).

const http = require('node:http');
const os = require('node:os');

function parseArgs(argv) {
  const opts = {
    app: 'trace-api', process: 'web', fault: '', commit: 'unknown', host: '127.0.0.1',
    timeScale: 1, logRate: 2, namespace: 'default',
  };
  const names = {
    '--app': 'app', '--process': 'process', '--fault': 'fault', '--commit': 'commit', '--host': 'host',
    '--time-scale': 'timeScale', '--log-rate': 'logRate', '--namespace': 'namespace',
  };
  for (let i = 0; i < argv.length - 1; i += 2) {
    const key = names[argv[i]];
    if (key) opts[key] = argv[i + 1];
  }
  opts.timeScale = Number(opts.timeScale) > 0 ? Number(opts.timeScale) : 1;
  opts.logRate = Math.max(0, Math.min(200, Number(opts.logRate) || 0));
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const APP_VERSION = '1.4.2';
const hostname = os.hostname();
const port = Number(process.env.PORT) || 3000;
const started = Date.now();
const sim = (seconds) => Math.max(1, seconds * opts.timeScale * 1000); // simulated seconds → ms
let seq = 0;
let shuttingDown = false;
let server = null;

// -- logging ----------------------------------------------------------------------------

function write(line) {
  process.stdout.write(line + '\n');
}

function log(severity, message, fields) {
  seq += 1;
  if (opts.app === 'trace-ui') {
    const level = { DEBUG: 20, INFO: 30, WARNING: 40, ERROR: 50 }[severity] || 30;
    write(JSON.stringify({ level, time: Date.now(), pid: process.pid, hostname, ...fields, msg: message, seq }));
    return;
  }
  if (opts.app === 'generic') {
    write(`level=${severity.toLowerCase()} msg=${JSON.stringify(message)} seq=${seq}`);
    return;
  }
  write(JSON.stringify({ severity, message, timestamp: new Date().toISOString(), ...fields, seq }));
}

function echoLines() {
  const text = process.env.SANDBOX_LOG_ECHO;
  if (text) for (const line of text.split('\n')) write(line);
  const encoded = process.env.SANDBOX_LOG_ECHO_B64;
  if (encoded) {
    const raw = Buffer.from(encoded, 'base64');
    if (raw.length) process.stdout.write(Buffer.concat([raw, Buffer.from('\n')]));
  }
}

// -- faults -----------------------------------------------------------------------------

const DB_ERROR = 'connect ECONNREFUSED 10.96.112.7:5432';
const dbDown = opts.fault === 'unready';
const warmUntil = opts.fault === 'slow-start' ? started + sim(40) : started;
const leaked = [];

function leakSome() {
  // 'leak': keep ~4 MB of small objects per tick on the heap (never freed), up to ~400 MB
  if (leaked.length >= 100) return;
  const chunk = [];
  for (let i = 0; i < 40000; i += 1) chunk.push({ id: i, at: Date.now(), note: `span-${i}-${seq}` });
  leaked.push(chunk);
  const heap = process.memoryUsage().heapUsed;
  if (leaked.length % 10 === 0) log('WARNING', 'heap growing', { heapUsedBytes: heap, retainedChunks: leaked.length });
}

// -- HTTP -------------------------------------------------------------------------------

function health() {
  if (shuttingDown) return [503, { status: 'shutting down' }];
  if (dbDown) return [503, { status: 'error', checks: { db: DB_ERROR } }];
  if (Date.now() < warmUntil) return [503, { status: 'starting', checks: { cache: 'warming' } }];
  const uptime = Math.round((Date.now() - started) / 100) / 10;
  return [200, {
    status: 'ok', version: APP_VERSION, commit: opts.commit, node: process.version, uptime,
    pid: process.pid, runtime: 'node',
  }];
}

const ORDERS = [
  { id: 1001, item: 'span-storage-1tb', quantity: 1, status: 'shipped' },
  { id: 1002, item: 'trace-seats', quantity: 25, status: 'pending' },
];

function route(method, path) {
  if (path === '/healthz' || path === '/readyz') return health();
  if (path.startsWith('/api/') && dbDown) return [503, { error: 'database unavailable', detail: DB_ERROR }];
  if (method === 'GET' && path === '/api/orders') return [200, { orders: ORDERS }];
  if (method === 'POST' && path === '/api/orders') return [201, { id: 1000 + seq, status: 'pending' }];
  let match = /^\/api\/users\/([^/]+)$/.exec(path);
  if (method === 'GET' && match) {
    const id = decodeURIComponent(match[1]);
    if (!/^\d+$/.test(id)) return [400, { error: 'user id must be a number' }];
    return [200, { id: Number(id), name: `user-${id}`, plan: Number(id) % 2 ? 'team' : 'free' }];
  }
  match = /^\/api\/traces\/([0-9a-f]+)$/.exec(path);
  if (method === 'GET' && match) return [200, { id: match[1], spans: 12, durationMs: 184 }];
  if (method === 'GET' && path === '/api/services') return [200, { services: ['checkout', 'search'] }];
  if (method === 'GET' && path === '/' && opts.app === 'trace-ui') return [200, '<!DOCTYPE html><title>trace-ui</title>'];
  return null;
}

function handle(req, res) {
  const begin = process.hrtime.bigint();
  const path = (req.url || '/').split('?')[0];
  const answer = route(req.method, path);
  let status;
  let body;
  let type = 'application/json; charset=utf-8';
  if (answer === null) {
    status = 404;
    type = 'text/html; charset=utf-8';
    body = `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n`
      + `<body>\n<pre>Cannot ${req.method} ${path}</pre>\n</body>\n</html>\n`;
  } else {
    [status, body] = answer;
    if (typeof body === 'string') type = 'text/html; charset=utf-8';
    else body = JSON.stringify(body);
  }
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'X-Powered-By': 'Express',
    'X-Node-Version': process.version,
    ...(shuttingDown ? { Connection: 'close' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  const ms = Number(process.hrtime.bigint() - begin) / 1e6;
  const httpRequest = {
    requestMethod: req.method, requestUrl: req.url, status, responseSize: String(Buffer.byteLength(body)),
    userAgent: req.headers['user-agent'] || '', remoteIp: req.socket.remoteAddress || '',
    latency: `${(ms / 1000).toFixed(3)}s`,
  };
  log(status >= 500 ? 'WARNING' : 'INFO', `${req.method} ${req.url} ${status} ${Math.round(ms)}ms`, { httpRequest });
}

// -- background activity at --log-rate --------------------------------------------------

const JOBS = ['ingest-batch', 'rollup-hourly', 'index-spans', 'send-digest', 'cleanup-expired'];

function activity(tick) {
  if (dbDown) {
    if (tick % 3 === 0) log('INFO', 'retrying database connection', { attempt: tick + 2, delayMs: 5000 });
    else log('ERROR', 'db not connected', { err: { name: 'Error', message: DB_ERROR }, code: 'ECONNREFUSED' });
    return;
  }
  if (opts.process === 'worker') {
    const job = { id: (0x100000 + tick).toString(16), queue: tick % 2 ? 'traces' : 'rollups', name: JOBS[tick % JOBS.length], attempt: 1 };
    if (tick % 2 === 0) log('INFO', 'job started', { job });
    else log('INFO', 'job completed', { job, durationMs: 12 + (tick * 37) % 4800 });
  } else if (opts.process === 'clock') {
    log('INFO', 'schedule fired', { schedule: ['rollup-hourly', 'cleanup-expired', 'digest-daily'][tick % 3] });
  } else if (tick % 40 === 39) {
    // a failing query now and then, with the stack a real error has
    const err = new Error('Query read timeout');
    err.name = 'TimeoutError';
    const url = `/api/traces/${(tick * 40503 >>> 0).toString(16)}`;
    log('ERROR', `request failed: ${err.message}`, {
      err: { name: err.name, message: err.message, stack: err.stack },
      httpRequest: { requestMethod: 'GET', requestUrl: url, status: 500, latency: '5.012s' },
    });
  } else if (tick % 20 === 9) {
    log('WARNING', 'slow request: GET /api/traces?service=search&limit=500 200 1412ms', { thresholdMs: 750 });
  } else if (tick % 4 === 0) {
    const mem = process.memoryUsage();
    log('INFO', 'pg pool stats', { total: 10, idle: 10 - (tick % 3), waiting: 0, heapUsedBytes: mem.heapUsed });
  } else {
    log('DEBUG', tick % 2 ? 'cache hit' : 'cache miss', { key: `traces:${(tick * 2654435761 >>> 0).toString(16)}` });
  }
}

// -- shutdown ---------------------------------------------------------------------------

function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  const what = opts.process === 'worker' ? 'pausing queues' : 'closing HTTP server';
  log('INFO', `${signal} received: shutting down, ${what}`, { signal });
  const finish = () => {
    log('INFO', 'shutdown complete', { exitCode: 0 });
    process.exit(0);
  };
  const drain = () => setTimeout(() => {
    if (opts.process === 'worker') log('INFO', 'worker stopped', { exitCode: 0 });
    else log('INFO', 'postgres pool ended');
    finish();
  }, sim(opts.process === 'worker' ? 2.0 : 0.5));
  if (server !== null) {
    server.close(() => { log('INFO', 'HTTP server closed'); drain(); });
    if (typeof server.closeIdleConnections === 'function') server.closeIdleConnections();
  } else {
    drain();
  }
}

// -- start ------------------------------------------------------------------------------

function start() {
  if (opts.fault === 'crash') {
    echoLines();
    // the image shipped without its native module: the require throws at start-up
    require('pg-native'); // eslint-disable-line global-require
  }
  if (opts.fault === 'ignore-sigterm') {
    // PID 1 of a PID namespace without a handler ignores SIGTERM (the kernel drops it);
    // elsewhere a no-op handler does the same
    if (process.pid !== 1) process.on('SIGTERM', () => {});
  } else {
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  }
  const db = `db.${opts.namespace}.svc.cluster.local`;
  log('INFO', 'config loaded', { env: opts.namespace, processType: opts.process, node: process.version, pid: process.pid });
  if (dbDown) log('ERROR', 'db not connected', { err: { name: 'Error', message: DB_ERROR }, code: 'ECONNREFUSED' });
  else log('INFO', 'connected to postgres', { host: db, pool: opts.process === 'worker' ? 4 : 10 });
  if (opts.fault === 'slow-start') log('INFO', 'warming caches (this can take a while)', { entries: 250000 });
  echoLines();
  if (opts.process !== 'clock') {
    server = http.createServer(handle);
    server.keepAliveTimeout = 5000;
    server.on('error', (err) => {
      log('ERROR', `cannot listen on ${opts.host}:${port}: ${err.message}`, { err: { name: err.name, code: err.code } });
      process.exit(1);
    });
    server.listen(port, opts.host, () => {
      if (opts.process === 'worker') log('INFO', 'worker ready', { queues: 'traces,rollups', concurrency: 4, port });
      else log('INFO', `Listening on :${port}`, { port });
    });
  } else {
    log('INFO', 'clock started', { schedules: 3 });
  }
  let tick = 0;
  if (opts.logRate > 0) {
    setInterval(() => { if (!shuttingDown) activity(tick++); }, 1000 / opts.logRate);
  } else {
    setInterval(() => {}, 1 << 30); // keep running
  }
  if (opts.fault === 'leak') setInterval(leakSome, sim(6));
}

start();
