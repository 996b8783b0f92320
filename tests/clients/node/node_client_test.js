// Drives memento with ioredis, the way a Node.js application would.
//
// Usage: node node_client_test.js PORT   (../node_client_test.sh installs ioredis with
// `npm ci`, starts memento and passes its port)
//
// Each check is one scenario with its own key prefix, so that scenarios do not depend
// on each other. All of them run; the exit status is 1 if any failed.
// ../python_client_test.py runs the same scenarios with redis-py: keep the two in step.
'use strict';

const assert = require('node:assert/strict');
const util = require('node:util');
const Redis = require('ioredis');

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

function expect(what, expected, got) {
  if (!util.isDeepStrictEqual(got, expected)) {
    const show = (v) => util.inspect(v, { maxArrayLength: 5, maxStringLength: 200, breakLength: Infinity });
    throw new assert.AssertionError({ message: `${what}: expected ${show(expected)}, got ${show(got)}` });
  }
}

async function expectError(what, promise, fragment) {
  try {
    const got = await promise;
    assert.fail(`${what}: expected an error reply, got ${JSON.stringify(got)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assert.ok(e.message.includes(fragment), `${what}: unexpected error text ${e.message}`);
  }
}

const checks = {
  async ping(r) {
    expect('PING', 'PONG', await r.ping());
    expect('ECHO', 'hello', await r.echo('hello'));
  },

  async setGet(r) {
    expect('SET js:k v', 'OK', await r.set('js:k', 'v'));
    expect('GET js:k', 'v', await r.get('js:k'));
    expect('GET of a missing key', null, await r.get('js:missing'));
    expect('SET NX on an existing key', null, await r.set('js:k', 'w', 'NX'));
    expect('SET XX on an existing key', 'OK', await r.set('js:k', 'w', 'XX'));
    expect('SET XX on a missing key', null, await r.set('js:missing', 'w', 'XX'));
    expect('GET js:k after SET XX', 'w', await r.get('js:k'));
    expect('SET GET returns the old value', 'w', await r.set('js:k', 'x', 'GET'));
    expect('EXISTS', 1, await r.exists('js:k', 'js:missing'));
    expect('TYPE', 'string', await r.type('js:k'));
    expect('DEL counts deleted keys', 1, await r.del('js:k', 'js:missing'));
    expect('GET after DEL', null, await r.get('js:k'));
  },

  async mgetMset(r) {
    expect('MSET', 'OK', await r.mset({ 'js:m1': '1', 'js:m2': '2', 'js:m3': '3' }));
    expect('MGET with a missing key', ['1', null, '3'], await r.mget('js:m1', 'js:nope', 'js:m3'));
  },

  async incr(r) {
    expect('INCR on a new key', 1, await r.incr('js:n'));
    expect('INCRBY 10', 11, await r.incrby('js:n', 10));
    expect('DECRBY 4', 7, await r.decrby('js:n', 4));
    expect('GET of a counter', '7', await r.get('js:n'));
    await r.set('js:text', 'abc');
    await expectError('INCR on a non-integer', r.incr('js:text'), 'not an integer');
  },

  async expireTtl(r) {
    await r.set('js:e', 'v');
    expect('TTL of a key without expiry', -1, await r.ttl('js:e'));
    expect('TTL of a missing key', -2, await r.ttl('js:missing'));
    expect('EXPIRE 100', 1, await r.expire('js:e', 100));
    const ttl = await r.ttl('js:e');
    assert.ok(ttl === 99 || ttl === 100, `TTL after EXPIRE 100: expected 99 or 100, got ${ttl}`);
    const pttl = await r.pttl('js:e');
    assert.ok(pttl > 98000 && pttl <= 100000,
      `PTTL after EXPIRE 100: expected (98000, 100000], got ${pttl}`);
    expect('PERSIST', 1, await r.persist('js:e'));
    expect('TTL after PERSIST', -1, await r.ttl('js:e'));
    expect('EXPIRE of a missing key', 0, await r.expire('js:missing', 10));
    await r.set('js:short', 'v', 'PX', 100);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect('GET after a 100 ms PX expired', null, await r.get('js:short'));
    expect('EXISTS after expiry', 0, await r.exists('js:short'));
  },

  async binary(r) {
    const key = Buffer.concat([Buffer.from('js:bin:'), Buffer.from([0, 255, 13, 10]), Buffer.from(' key')]);
    expect('SET of all 256 byte values', 'OK', await r.set(key, ALL_BYTES));
    expect('GET of all 256 byte values', ALL_BYTES, await r.getBuffer(key));
    expect('STRLEN', 256, await r.strlen(key));
    expect('GETRANGE 10..19', ALL_BYTES.subarray(10, 20), await r.getrangeBuffer(key, 10, 19));
    const reversed = Buffer.from(ALL_BYTES).reverse();
    expect('APPEND returns the new length', 512, await r.append(key, reversed));
    expect('GET after APPEND', Buffer.concat([ALL_BYTES, reversed]), await r.getBuffer(key));
    const big = Buffer.concat(Array(4096).fill(ALL_BYTES)); // 1 MiB
    await r.set('js:big', big);
    expect('GET of a 1 MiB binary value', big, await r.getBuffer('js:big'));
  },

  async pipeline(r) {
    const n = 1000;
    const value = (i) => Buffer.concat([ALL_BYTES.subarray(i % 256), Buffer.from(String(i))]);
    let p = r.pipeline();
    for (let i = 0; i < n; i++) p.set(`js:p:${i}`, value(i));
    let results = await p.exec();
    expect('1000 pipelined SET replies', Array(n).fill([null, 'OK']), results);
    p = r.pipeline();
    for (let i = 0; i < n; i++) p.getBuffer(`js:p:${i}`);
    results = await p.exec();
    for (let i = 0; i < n; i++) expect(`pipelined GET js:p:${i}`, [null, value(i)], results[i]);
    // A mixed pipeline: the replies come back in order, errors in their place.
    p = r.pipeline();
    p.incr('js:p:count');
    p.incr('js:p:0'); // not an integer
    p.incr('js:p:count');
    results = await p.exec();
    expect('mixed pipeline, first INCR', [null, 1], results[0]);
    assert.ok(results[1][0] instanceof Error,
      `mixed pipeline: expected an error reply in 2nd place, got ${JSON.stringify(results[1])}`);
    expect('mixed pipeline, third INCR', [null, 2], results[2]);
  },

  async getdel(r) {
    await r.set('js:gd', 'v');
    expect('GETDEL', 'v', await r.getdel('js:gd'));
    expect('GET after GETDEL', null, await r.get('js:gd'));
    expect('GETDEL of a missing key', null, await r.getdel('js:gd'));
  },

  async scan(r) {
    const n = 500;
    const expected = new Set(Array.from({ length: n }, (_, i) => `js:scan:${i}`));
    const pairs = {};
    for (const k of expected) pairs[k] = 'x';
    await r.mset(pairs);
    // A cursor that never comes back to 0 must fail the test, not hang it.
    const maxBatches = 10000;
    const scanAll = (options) => new Promise((resolve, reject) => {
      const keys = [];
      let batches = 0;
      const stream = r.scanStream(options);
      stream
        .on('data', (batch) => {
          keys.push(...batch);
          if (++batches > maxBatches) {
            stream.pause();
            reject(new Error(`SCAN did not end after ${maxBatches} calls`));
          }
        })
        .on('end', () => resolve(keys))
        .on('error', reject);
    });
    const got = await scanAll({ match: 'js:scan:*', count: 50 });
    assert.ok(got.length >= n, `SCAN MATCH js:scan:*: ${got.length} keys returned, ${n} expected`);
    expect('SCAN MATCH js:scan:* returns every key set', expected, new Set(got));
    const every = new Set(await scanAll({ count: 100 }));
    const missed = [...expected].filter((k) => !every.has(k));
    expect('SCAN without MATCH misses no key', [], missed);
    expect('SCAN without MATCH returns DBSIZE keys', await r.dbsize(), every.size);
  },

  async multi(r) {
    // ioredis's multi(): MULTI, the commands, EXEC; [error, result] per command.
    await r.del('js:txn', 'js:txncount');
    const results = await r.multi().set('js:txn', 'x').incr('js:txncount').get('js:txn').exec();
    expect('multi().exec()', [[null, 'OK'], [null, 1], [null, 'x']], results);
    const mixed = await r.multi().incr('js:txn').incr('js:txncount').exec();
    assert.ok(mixed[0][0] instanceof Error, 'a runtime error stays in its slot');
    expect('the rest of the transaction ran', [null, 2], mixed[1]);
    // WATCH: another client's write makes EXEC return null.
    const other = r.duplicate();
    await r.watch('js:txn');
    await other.set('js:txn', 'changed');
    expect('EXEC after a watched key changed', null, await r.multi().set('js:txn', 'mine').exec());
    expect('the other client\'s write stays', 'changed', await r.get('js:txn'));
    other.disconnect();
  },
};

async function main() {
  if (process.argv.length !== 3) {
    console.error('usage: node node_client_test.js PORT');
    process.exit(2);
  }
  const r = new Redis({
    host: '127.0.0.1',
    port: Number(process.argv[2]),
    // Fail instead of retrying for ever: a test must end.
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    commandTimeout: 20000,
  });
  r.on('error', (e) => console.error(`ioredis connection error: ${e.message}`));
  console.log(`ioredis ${require('ioredis/package.json').version}, node ${process.version}`);
  let failed = 0;
  const names = Object.keys(checks);
  for (const name of names) {
    try {
      await checks[name](r);
      console.log(`ok: ${name}`);
    } catch (e) {
      failed++;
      console.error(`FAIL: ${name}: ${e instanceof assert.AssertionError ? e.message : e.stack}`);
    }
  }
  r.disconnect();
  console.log(`${names.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
