'use strict';
// ioredis 6 and 5 and node-redis 6 and 4, each with its default options, against the server
// whose address the runner passes in INTEGRATION_HOST / INTEGRATION_PORT.
//
// What the defaults exercise on connect: ioredis 6 sends `hello 3` (lower case), `client SETINFO`
// twice and then `info` as a ready check, reconnecting forever if INFO fails or waiting while it
// reports `loading:1`; ioredis 5 skips HELLO. node-redis 6 sends `HELLO 3`; node-redis 4 does not.
// A server that breaks the handshake shows up here as a test timeout, not a hang: every client is
// torn down in `finally`.

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const host = process.env.INTEGRATION_HOST;
const port = Number(process.env.INTEGRATION_PORT);
if (!host || !port) {
  throw new Error('INTEGRATION_HOST / INTEGRATION_PORT are not set: run scripts/test-integrations.sh');
}

// A server that never answers must fail a test, not hang the run: each test gives up after
// OP_TIMEOUT_MS and closes its client; node's own per-test timeout is the backstop.
const OP_TIMEOUT_MS = 10000;
const TEST_TIMEOUT_MS = 20000;
const unique = () => crypto.randomUUID();

/** Adapters give each client library the same small interface, so one suite covers all four. */
const ioredisAdapter = (pkg) => ({
  create: () => new (require(pkg))({ host, port }),
  // Commands would wait in the offline queue until the handshake and INFO ready check succeed.
  ready: (client) =>
    new Promise((resolve, reject) => {
      client.once('ready', resolve);
      client.once('end', () => reject(new Error('connection ended before ready')));
    }),
  setEx: (c, k, v, s) => c.set(k, v, 'EX', s),
  get: (c, k) => c.get(k),
  ttl: (c, k) => c.ttl(k),
  hset: (c, k, obj) => c.hset(k, obj),
  hgetall: (c, k) => c.hgetall(k),
  pipeline: async (c, k) => {
    const replies = await c.pipeline().set(k, 'p').get(k).incr(`${k}:n`).exec();
    return replies.map(([err, value]) => {
      if (err) throw err;
      return value;
    });
  },
  multi: async (c, k) => {
    const replies = await c.multi().set(k, 'm').get(k).exec();
    return replies.map(([err, value]) => {
      if (err) throw err;
      return value;
    });
  },
  call: (c, ...args) => c.call(...args),
  quit: (c) => c.quit(),
  // Also stops the reconnect loop a failed handshake starts.
  teardown: (c) => c.disconnect(),
});

const nodeRedisAdapter = (pkg) => ({
  create: () => {
    const { createClient } = require(pkg);
    const client = createClient({ socket: { host, port } });
    client.on('error', () => {}); // surfaced through the rejected promises instead
    return client;
  },
  ready: (client) => client.connect(),
  setEx: (c, k, v, s) => c.set(k, v, { EX: s }),
  get: (c, k) => c.get(k),
  ttl: (c, k) => c.ttl(k),
  hset: (c, k, obj) => c.hSet(k, obj),
  hgetall: async (c, k) => ({ ...(await c.hGetAll(k)) }),
  pipeline: (c, k) => c.multi().set(k, 'p').get(k).incr(`${k}:n`).execAsPipeline(),
  multi: (c, k) => c.multi().set(k, 'm').get(k).exec(),
  call: (c, ...args) => c.sendCommand(args),
  quit: (c) => c.quit(),
  teardown: (c) => {
    if (!c.isOpen) return;
    // node-redis 5+ has destroy(); 4 has disconnect(), which returns a promise.
    if (c.destroy) c.destroy();
    else c.disconnect().catch(() => {});
  },
});

// [name, adapter, the protocol its defaults negotiate]
const clients = [
  ['ioredis 6', ioredisAdapter('ioredis6'), 3],
  ['ioredis 5', ioredisAdapter('ioredis5'), 2],
  ['node-redis 6', nodeRedisAdapter('redis6'), 3],
  ['node-redis 4', nodeRedisAdapter('redis4'), 2],
];

for (const [name, a, protocol] of clients) {
  describe(name, () => {
    /**
     * Connects, runs `body`, and always closes the client afterwards, also when the server
     * stops answering (the whole exchange has OP_TIMEOUT_MS).
     */
    const withClient = async (body) => {
      const c = a.create();
      let timer;
      const deadline = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${OP_TIMEOUT_MS} ms`)), OP_TIMEOUT_MS);
      });
      try {
        await Promise.race([(async () => {
          await a.ready(c);
          await body(c);
        })(), deadline]);
      } finally {
        clearTimeout(timer);
        a.teardown(c);
      }
    };

    test('connects with default options and answers PING', { timeout: TEST_TIMEOUT_MS }, () =>
      withClient(async (c) => {
        assert.equal(await a.call(c, 'PING'), 'PONG');
      }));

    test(`default options negotiate RESP${protocol}`, { timeout: TEST_TIMEOUT_MS }, () =>
      withClient(async (c) => {
        const info = String(await a.call(c, 'CLIENT', 'INFO'));
        assert.match(info, new RegExp(`\\bresp=${protocol}\\b`), info);
      }));

    test('SET EX, GET and TTL', { timeout: TEST_TIMEOUT_MS }, () =>
      withClient(async (c) => {
        const k = `node:${unique()}`;
        assert.equal(await a.setEx(c, k, 'value', 100), 'OK');
        assert.equal(await a.get(c, k), 'value');
        const ttl = await a.ttl(c, k);
        assert.ok(ttl > 0 && ttl <= 100, `TTL was ${ttl}`);
        assert.equal(await a.get(c, `${k}:missing`), null);
      }));

    test('HSET and HGETALL', { timeout: TEST_TIMEOUT_MS }, () =>
      withClient(async (c) => {
        const k = `node:h:${unique()}`;
        assert.equal(await a.hset(c, k, { 0: 'zero', 1: 'one' }), 2);
        assert.deepEqual(await a.hgetall(c, k), { 0: 'zero', 1: 'one' });
        assert.deepEqual(await a.hgetall(c, `${k}:missing`), {});
      }));

    test('pipeline', { timeout: TEST_TIMEOUT_MS }, () =>
      withClient(async (c) => {
        const k = `node:p:${unique()}`;
        assert.deepEqual(await a.pipeline(c, k), ['OK', 'p', 1]);
      }));

    test('MULTI / EXEC', { timeout: TEST_TIMEOUT_MS }, () =>
      withClient(async (c) => {
        const k = `node:m:${unique()}`;
        assert.deepEqual(await a.multi(c, k), ['OK', 'm']);
      }));

    test('generic command call', { timeout: TEST_TIMEOUT_MS }, () =>
      withClient(async (c) => {
        const k = `node:g:${unique()}`;
        assert.equal(await a.call(c, 'SET', k, 'generic'), 'OK');
        assert.equal(await a.call(c, 'GET', k), 'generic');
        assert.equal(await a.call(c, 'ECHO', 'hello'), 'hello');
        await assert.rejects(a.call(c, 'NO-SUCH-COMMAND'), /unknown command/i);
        assert.equal(await a.call(c, 'PING'), 'PONG', 'connection unusable after an error');
      }));

    test('QUIT closes cleanly', { timeout: TEST_TIMEOUT_MS }, () =>
      withClient(async (c) => {
        assert.equal(await a.quit(c), 'OK');
      }));
  });
}

// ACL users through ioredis 6 and node-redis 6: each logs in as a tenant user with its own
// username and password (HELLO 3 AUTH), reads and writes its own keys, and is refused another
// tenant's keys with Redis's NOPERM text. Against both servers, which must agree.
describe('ACL tenant users', () => {
  const admin = () => new (require('ioredis6'))({ host, port });
  // [name, log in as user: resolves to a function that sends one command]
  const logins = [
    ['ioredis 6', async (user, pass) => {
      const c = new (require('ioredis6'))({ host, port, username: user, password: pass });
      return [c, (...args) => c.call(...args), () => c.disconnect()];
    }],
    ['node-redis 6', async (user, pass) => {
      const c = require('redis6').createClient({ socket: { host, port }, username: user, password: pass, RESP: 3 });
      await c.connect();
      return [c, (...args) => c.sendCommand(args), () => c.disconnect()];
    }],
  ];
  for (const [name, login] of logins) {
    test(`${name} logs in as a tenant and is held to its keys`, { timeout: TEST_TIMEOUT_MS }, async () => {
      const user = `tenant-${unique()}`;
      const pass = unique();
      const root = admin();
      let close;
      try {
        assert.equal(await root.call('ACL', 'SETUSER', user, 'on', `>${pass}`, `~${user}:*`, '+@all'), 'OK');
        const [, call, disconnect] = await login(user, pass);
        close = disconnect;
        assert.equal(await call('ACL', 'WHOAMI'), user);
        assert.equal(await call('SET', `${user}:k`, 'v'), 'OK');
        assert.equal(await call('GET', `${user}:k`), 'v');
        await assert.rejects(
          call('GET', 'someone-else:k'),
          /NOPERM this user has no permissions to access one of the keys used as arguments/,
        );
      } finally {
        if (close) await Promise.resolve().then(close).catch(() => {});
        await root.call('ACL', 'DELUSER', user).catch(() => {});
        await root.call('DEL', `${user}:k`).catch(() => {});
        root.disconnect();
      }
    });
  }
});

// ioredis's defineCommand: the command is sent as EVALSHA, and on NOSCRIPT as EVAL (which caches
// the script), as django-style lock helpers and rate limiters built on ioredis do.
for (const pkg of ['ioredis6', 'ioredis5']) {
  describe(`${pkg} defineCommand`, () => {
    test('runs a Lua command by EVALSHA after NOSCRIPT', { timeout: TEST_TIMEOUT_MS }, async () => {
      const c = new (require(pkg))({ host, port });
      try {
        await new Promise((resolve, reject) => {
          c.once('ready', resolve);
          c.once('end', () => reject(new Error('connection ended before ready')));
        });
        const lua = "local n = redis.call('incrby', KEYS[1], ARGV[1]) if n > tonumber(ARGV[2]) then return redis.error_reply('LIMIT over budget') end return n";
        c.defineCommand('spendTokens', { numberOfKeys: 1, lua });
        const sha = crypto.createHash('sha1').update(lua).digest('hex');
        await c.script('FLUSH');
        assert.deepEqual(await c.script('EXISTS', sha), [0]);
        const k = `node:lua:${unique()}`;
        assert.equal(await c.spendTokens(k, 40, 100), 40);
        assert.deepEqual(await c.script('EXISTS', sha), [1]);
        assert.equal(await c.spendTokens(k, 50, 100), 90);
        await assert.rejects(c.spendTokens(k, 20, 100), /LIMIT over budget/);
        assert.equal(await c.get(k), '110');
        // In a pipeline too.
        const replies = await c.pipeline().spendTokens(`${k}:p`, 1, 10).spendTokens(`${k}:p`, 2, 10).exec();
        assert.deepEqual(replies.map(([err, v]) => (err ? err.message : v)), [1, 3]);
      } finally {
        c.disconnect();
      }
    });
  });
}
