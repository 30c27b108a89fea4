'use strict';
// ioredis 6 and 5 `Cluster` clients against a node in emulated cluster mode, which this file
// starts itself (the runner's server is standalone): llmcached `--cluster-mode emulated` on port 0
// (LLMCACHED_BIN, else target/release/llmcached), or with INTEGRATION_TARGET=redis a real one-node
// Redis Cluster (`--cluster-enabled yes`, then CLUSTER ADDSLOTSRANGE 0 16383), which proves the
// tests themselves right.
//
// What ioredis's Cluster sends at start (read with MONITOR on a real cluster): `CLIENT SETNAME
// ioredis-cluster(refresher)` and `CLUSTER SLOTS` on a refresher connection, then per node
// `hello 3` (ioredis 6), `info` as the ready check and `CLUSTER INFO`, which must say
// `cluster_state:ok`.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const { spawn } = require('node:child_process');

const TARGET = process.env.INTEGRATION_TARGET || 'llmcached';
const ROOT = path.resolve(__dirname, '../../..');
const START_TIMEOUT_MS = 30000;
const TEST_TIMEOUT_MS = 20000;
// Redis refuses a cluster port whose bus port (port + 10000) does not fit in 16 bits.
const MAX_CLUSTER_PORT = 55535;

/** Resolves with the first match of `pattern` in the child's stdout or stderr (its own
 * readiness line); both keep being drained after. */
function waitForLine(child, pattern) {
  const streams = [child.stdout, child.stderr].filter(Boolean);
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`not ready: ${seen.slice(-2000)}`)), START_TIMEOUT_MS);
    const onData = (chunk) => {
      seen += chunk.toString();
      const m = seen.match(pattern);
      if (m) {
        clearTimeout(timer);
        for (const s of streams) {
          s.off('data', onData);
          s.resume();
        }
        resolve(m);
      }
    };
    for (const s of streams) s.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${seen.slice(-2000)}`));
    });
  });
}

function freeClusterPort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => (port <= MAX_CLUSTER_PORT ? resolve(port) : freeClusterPort().then(resolve, reject)));
    });
  });
}

/** One command on a fresh raw connection; resolves with the reply's raw text. */
function rawCommand(port, words) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    sock.setTimeout(10000, () => sock.destroy(new Error('no reply')));
    sock.on('data', (d) => {
      buf += d.toString();
      // Enough for the replies used here: a status, or a bulk string once complete.
      const m = buf.match(/^\$(\d+)\r\n/);
      if ((m && buf.length >= m[0].length + Number(m[1]) + 2) || (!m && buf.endsWith('\r\n'))) {
        sock.end();
        resolve(buf);
      }
    });
    sock.on('error', reject);
    sock.write(`*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`);
  });
}

async function startNode(dir) {
  if (TARGET === 'redis') {
    const port = await freeClusterPort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1',
      '--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, 'nodes.conf'), '--cluster-announce-ip', '127.0.0.1',
      '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--logfile', ''],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    await waitForLine(child, /Ready to accept connections/);
    assert.equal(await rawCommand(port, ['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']), '+OK\r\n');
    // The state turns ok once the node has checked its slots: poll, bounded.
    for (let i = 0; i < 1000; i++) {
      if ((await rawCommand(port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok')) return { child, port };
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('cluster_state never became ok');
  }
  const bin = process.env.LLMCACHED_BIN || path.join(ROOT, 'target/release/llmcached');
  const child = spawn(bin, ['--port', '0', '--bind', '127.0.0.1', '--cluster-mode', 'emulated',
    '--appendonly', 'no', '--save', '', '--dir', dir],
  { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const m = await waitForLine(child, /listening on 127\.0\.0\.1:(\d+)/);
  return { child, port: Number(m[1]) };
}

for (const pkg of ['ioredis6', 'ioredis5']) {
  describe(`${pkg} Cluster against emulated cluster mode`, { timeout: 60000 }, () => {
    let node;
    let dir;
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cluster-node-'));
      node = await startNode(dir);
    });
    after(() => {
      if (node) node.child.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const withCluster = async (fn) => {
      const Redis = require(pkg);
      const cluster = new Redis.Cluster([{ host: '127.0.0.1', port: node.port }], {
        clusterRetryStrategy: () => null, // a failed start fails the test instead of retrying
      });
      try {
        await new Promise((resolve, reject) => {
          cluster.once('ready', resolve);
          cluster.once('error', reject);
          cluster.once('end', () => reject(new Error('ended before ready')));
        });
        await fn(cluster);
      } finally {
        cluster.disconnect();
      }
    };

    test('discovers one master owning every slot', { timeout: TEST_TIMEOUT_MS }, () =>
      withCluster(async (c) => {
        const masters = c.nodes('master');
        assert.equal(masters.length, 1);
        assert.equal(masters[0].options.port, node.port);
        const info = await c.cluster('INFO');
        assert.match(info, /^cluster_state:ok\r\n/);
      }));

    test('SET and GET over many slots', { timeout: TEST_TIMEOUT_MS }, () =>
      withCluster(async (c) => {
        const prefix = `clustertest:${crypto.randomUUID()}:`;
        const keys = Array.from({ length: 20 }, (_, i) => `${prefix}${i}`);
        for (const k of keys) assert.equal(await c.set(k, `v:${k}`, 'EX', 60), 'OK');
        assert.deepEqual(await Promise.all(keys.map((k) => c.get(k))), keys.map((k) => `v:${k}`));
        assert.equal(await c.get(`${prefix}missing`), null);
      }));

    test('a pipeline of keys that share a hash tag', { timeout: TEST_TIMEOUT_MS }, () =>
      withCluster(async (c) => {
        const tag = `{clustertest:${crypto.randomUUID()}}`;
        const replies = await c.pipeline().set(`${tag}a`, '1').incr(`${tag}a`).get(`${tag}a`).exec();
        assert.deepEqual(replies.map(([err, v]) => { if (err) throw err; return v; }), ['OK', 2, '2']);
      }));

    if (TARGET !== 'redis') {
      test('LLMGET leases, LLMSETNX answers', { timeout: TEST_TIMEOUT_MS }, () =>
        withCluster(async (c) => {
          const key = `clustertest:${crypto.randomUUID()}:answer`;
          assert.equal(await c.call('LLMGET', key), null);
          assert.equal(await c.call('LLMSETNX', key, 'the answer', 'EX', '60'), 1);
          assert.equal(await c.call('LLMGET', key), 'the answer');
        }));
    }
  });
}
