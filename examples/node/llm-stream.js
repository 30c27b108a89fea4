'use strict';
// Share one streamed model call between every caller of the same request, with ioredis.
//
// LLMKEY request-json FORMAT sse keys the request (FORMAT keeps SSE answers apart from JSON
// ones). Then loop LLMREAD key FROM cursor WAIT ms -> [state, cursor, data]:
//   data   forward the bytes, read again from the new cursor; done: forward the rest, stop;
//   lead   this caller holds the lease at <gen> (cursor "<gen>-0"): call the model with
//          stream=true, LLMAPPEND key gen frame per SSE frame (and forward it), LLMEND key gen
//          EX s at the end, LLMABORT key gen if the model fails;
//   reset  the attempt being read was abandoned: what was forwarded is void, data restarts at 0.
// A -NOLEASE reply to LLMAPPEND means this leader was replaced: stop appending and follow.
//
// Run it as a self-test: node llm-stream.js --host 127.0.0.1 --port 6379
// Exit status: 0 all checks passed, 1 a check failed, 77 the server lacks the streaming commands.

const Redis = require('ioredis');

class StreamCache {
  constructor(client, { ttl = 3600, waitMs = 1000 } = {}) {
    this.client = client;
    this.ttl = ttl;
    this.waitMs = waitMs;
  }

  /**
   * Streams the answer to `request` as {kind: 'data'|'reset', data: Buffer} events;
   * `model(request)` (an async iterable of SSE frames) runs only when this caller leads.
   */
  async *stream(request, model) {
    const key = await this.client.call('LLMKEY', JSON.stringify(request), 'FORMAT', 'sse');
    let cursor = '0';
    let forwarded = false;
    for (;;) {
      const [s, c, data] = await this.client.callBuffer(
        'LLMREAD', key, 'FROM', cursor, 'WAIT', String(this.waitMs));
      const state = s.toString();
      cursor = c.toString();
      if (state === 'lead') {
        if (forwarded) yield { kind: 'reset', data: Buffer.alloc(0) };
        const gen = cursor.split('-')[0];
        if (yield* this.#lead(key, gen, request, model)) return;
        cursor = '0';
        forwarded = false;
        yield { kind: 'reset', data: Buffer.alloc(0) };
        continue;
      }
      if (state === 'reset') yield { kind: 'reset', data: Buffer.alloc(0) };
      if (data.length > 0) {
        forwarded = true;
        yield { kind: 'data', data };
      }
      if (state === 'done') return;
    }
  }

  async *#lead(key, gen, request, model) {
    try {
      for await (const frame of model(request)) {
        try {
          await this.client.call('LLMAPPEND', key, gen, frame);
        } catch (err) {
          if (String(err.message).startsWith('NOLEASE')) return false;
          throw err;
        }
        yield { kind: 'data', data: Buffer.from(frame) };
      }
    } catch (err) {
      await this.client.call('LLMABORT', key, gen);
      throw err;
    }
    await this.client.call('LLMEND', key, gen, 'EX', String(this.ttl));
    return true;
  }
}

/** What a relay's client ends up with: the data since the last reset. */
async function collect(events) {
  let out = [];
  for await (const e of events) {
    if (e.kind === 'reset') out = [];
    out.push(e.data);
  }
  return Buffer.concat(out).toString();
}

/** An OpenAI-style streaming model: chat.completion.chunk SSE frames, then [DONE]. */
function fakeStreamingModel(words = 20) {
  const model = {
    calls: 0,
    failAfter: null,
    frames(request) {
      const text = request.messages[request.messages.length - 1].content;
      const out = [];
      for (let i = 0; i < words; i++) {
        const chunk = { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: `${text}-${i} ` } }] };
        out.push(`data: ${JSON.stringify(chunk)}\n\n`);
      }
      return [...out, 'data: [DONE]\n\n'];
    },
  };
  model.stream = async function* (request) {
    model.calls++;
    const fail = model.failAfter;
    model.failAfter = null;
    const frames = model.frames(request);
    for (let i = 0; i < frames.length; i++) {
      if (fail !== null && i === fail) throw new Error('provider dropped the stream');
      yield frames[i];
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  return model;
}

function chat(content) {
  return { model: 'fake-1', temperature: 0, stream: true, messages: [{ role: 'user', content }] };
}

async function selfTest(host, port) {
  const clients = [];
  const connect = () => {
    const c = new Redis({ host, port, lazyConnect: false, maxRetriesPerRequest: 1 });
    clients.push(c);
    return c;
  };
  const check = (ok, what) => {
    if (!ok) throw new Error(`check failed: ${what}`);
  };
  try {
    const probe = connect();
    try {
      await probe.call('LLMREAD', 'llm-stream-probe', 'WAIT', '0');
      await probe.call('LLMABORT', 'llm-stream-probe');
    } catch (err) {
      if (/unknown command/i.test(String(err.message))) {
        console.log(`SKIP: the server lacks the streaming commands (${err.message})`);
        return 77;
      }
      throw err;
    }
    const nonce = (await probe.call('TIME')).join('-');

    // Four concurrent callers, each on its own connection: one model call, the same bytes.
    let model = fakeStreamingModel();
    const request = chat(`burst ${nonce}`);
    const got = await Promise.all(
      [1, 2, 3, 4].map(() => collect(new StreamCache(connect()).stream(request, model.stream))));
    const whole = model.frames(request).join('');
    check(got.every((g) => g === whole), 'a caller rebuilt other bytes');
    check(model.calls === 1, `${model.calls} model calls for one burst`);
    check((await probe.call('LLMGET', await probe.call('LLMKEY', JSON.stringify(request), 'FORMAT', 'sse'))) === whole,
      'LLMGET does not return the streamed answer');

    // The leader's stream fails: it aborts, the others are reset and one of them retries.
    model = fakeStreamingModel();
    model.failAfter = 5;
    const flaky = chat(`flaky ${nonce}`);
    const results = await Promise.allSettled(
      [1, 2, 3].map(() => collect(new StreamCache(connect()).stream(flaky, model.stream))));
    const ok = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    check(results.filter((r) => r.status === 'rejected').length === 1, 'exactly one caller saw the failure');
    check(ok.length === 2 && ok.every((v) => v === model.frames(flaky).join('')), 'retried bytes differ');
    check(model.calls === 2, `${model.calls} model calls around a failure`);

    console.log('llm-stream.js: all checks passed');
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

module.exports = { StreamCache };
