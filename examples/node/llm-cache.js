'use strict';
// Cache LLM answers in llmcached with ioredis, calling the model once per distinct request.
//
// LLMLOOKUP request-json [WAIT ms] [SAMPLED] computes the request's canonical key on the server
// and looks it up in one round trip, replying [key, answer]. A null answer means this client now
// holds the fill lease: call the model, then LLMSETNX key answer [EX s] [TOKENS n], or LLMABORT key
// if the model failed. While someone else holds the lease the server blocks the lookup and replies
// with the answer once it is stored; a wait that runs out is an error starting with TRYAGAIN.
// Only requests whose answer sampling cannot change (temperature 0, one choice) get a key; others
// get a NOTCACHEABLE error, and this wrapper then calls the model uncached. `sampled: true` (the
// SAMPLED flag) caches one sampled answer and serves it to everyone.
//
// Run it as a self-test: node llm-cache.js --host 127.0.0.1 --port 6379
// Exit status: 0 all checks passed, 1 a check failed, 77 the server lacks the LLM commands.

const Redis = require('ioredis');

class LLMCache {
  /**
   * @param {Redis} client an ioredis client
   * @param {{ttl?: number|null, waitMs?: number, maxTries?: number}} options ttl in seconds
   */
  constructor(client, { ttl = 3600, waitMs = 30000, maxTries = 3 } = {}) {
    this.client = client;
    this.ttl = ttl;
    this.waitMs = waitMs;
    this.maxTries = maxTries;
  }

  /** The server's canonical key for `request`. */
  async key(request, { sampled = false } = {}) {
    const args = [JSON.stringify(request)];
    if (sampled) args.push('SAMPLED');
    return this.client.call('LLMKEY', ...args);
  }

  /**
   * The cached answer to `request`; `model(request)` runs only on a miss, or every time for a
   * request the server will not key (sampled, without `sampled: true`).
   */
  async call(request, model, { sampled = false } = {}) {
    const args = [JSON.stringify(request), 'WAIT', String(this.waitMs)];
    if (sampled) args.push('SAMPLED');
    for (let attempt = 1; ; attempt++) {
      let reply;
      try {
        reply = await this.client.call('LLMLOOKUP', ...args);
      } catch (err) {
        const message = String(err.message);
        // TRYAGAIN: the lease holder is slow or gone; look up again (wait or take over).
        if (message.startsWith('TRYAGAIN') && attempt < this.maxTries) continue;
        if (message.startsWith('NOTCACHEABLE')) return model(request);
        throw err;
      }
      const [key, answer] = reply;
      if (answer !== null) return answer;
      return this.#fill(key, request, model);
    }
  }

  async #fill(key, request, model) {
    let answer;
    try {
      answer = await model(request);
    } catch (err) {
      // Release the lease at once rather than leave waiters hanging until their WAIT runs out.
      await this.client.call('LLMABORT', key);
      throw err;
    }
    const args = [key, answer];
    if (this.ttl !== null) args.push('EX', String(this.ttl));
    await this.client.call('LLMSETNX', ...args);
    return answer;
  }
}

/** Stands in for a provider: echoes the last message and counts its calls. */
function fakeModel() {
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  const model = async (request) => {
    model.calls += 1;
    await gate;
    if (model.failNext) {
      model.failNext = false;
      throw new Error('provider unavailable');
    }
    return `echo: ${request.messages.at(-1).content}`;
  };
  model.calls = 0;
  model.failNext = false;
  model.release = release;
  return model;
}

/** An OpenAI-style chat request; temperature 0 makes it cacheable. */
function chat(content, temperature = 0) {
  return { model: 'fake-1', temperature, messages: [{ role: 'user', content }] };
}

function check(cond, message) {
  if (!cond) throw new Error(`check failed: ${message}`);
}

async function selfTest(host, port) {
  const clients = [];
  const connect = () => {
    const c = new Redis({ host, port });
    clients.push(c);
    return c;
  };
  try {
    const cache = new LLMCache(connect(), { ttl: 60, waitMs: 10000 });
    const [sec, usec] = await cache.client.time();
    const nonce = `${sec}.${usec}`;
    const request = chat(`hello ${nonce}`);

    let key;
    try {
      key = await cache.key(request);
    } catch (err) {
      if (/unknown command/i.test(err.message)) {
        console.log(`SKIP: the server does not know the LLM commands yet (${err.message})`);
        return 77;
      }
      throw err;
    }
    check(key.startsWith('llm:v1:fake-1:'), `key ${key}`);
    const reordered = { messages: request.messages, temperature: 0, model: request.model };
    check((await cache.key(reordered)) === key, 'field order changed the key');

    let model = fakeModel();
    model.release();
    const first = await cache.call(request, model);
    const second = await cache.call(request, model);
    check(first === `echo: hello ${nonce}` && second === first, `answers ${first} / ${second}`);
    check(model.calls === 1, `${model.calls} model calls for a repeated request`);
    check((await cache.client.call('LLMGET', key)) === first, 'LLMGET disagrees');

    // Concurrent identical requests, each on its own connection: one model call.
    model = fakeModel();
    const burst = chat(`burst ${nonce}`);
    const pending = [1, 2, 3, 4].map(() => new LLMCache(connect(), { waitMs: 10000 }).call(burst, model));
    model.release();
    const answers = await Promise.all(pending);
    check(answers.every((a) => a === `echo: burst ${nonce}`), `burst answers ${answers}`);
    check(model.calls === 1, `${model.calls} model calls for one burst`);

    // A failed model call releases the lease; the next caller fills the key.
    model = fakeModel();
    model.release();
    model.failNext = true;
    const flaky = chat(`flaky ${nonce}`);
    let failed = false;
    await cache.call(flaky, model).catch(() => (failed = true));
    check(failed, "the model's error was swallowed");
    check((await cache.call(flaky, model)) === `echo: flaky ${nonce}`, 'refill after abort');
    check(model.calls === 2, `${model.calls} model calls around an abort`);

    // A sampled request is not cached unless asked for with SAMPLED.
    model = fakeModel();
    model.release();
    const creative = chat(`a poem ${nonce}`, 0.9);
    await cache.call(creative, model);
    await cache.call(creative, model);
    check(model.calls === 2, 'a sampled request was cached without SAMPLED');
    await cache.call(creative, model, { sampled: true });
    await cache.call(creative, model, { sampled: true });
    check(model.calls === 3, 'SAMPLED did not cache the sampled request');

    console.log('llm-cache.js: all checks passed');
    return 0;
  } finally {
    for (const c of clients) c.disconnect();
  }
}

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

if (require.main === module) {
  selfTest(arg('host', '127.0.0.1'), Number(arg('port', '6379'))).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`FAILED: ${err.stack || err}`);
      process.exit(1);
    },
  );
}

module.exports = { LLMCache };
