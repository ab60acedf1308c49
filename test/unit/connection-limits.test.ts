import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionLimits } from '../../lib/endpoint/connection-limits.js';

describe('connection limits', () => {
  test('without limits every connection gets a place', () => {
    const limits = new ConnectionLimits(undefined, undefined);
    const places = Array.from({ length: 1000 }, () => limits.acquire('same token'));
    assert.ok(places.every((release) => typeof release === 'function'));
  });

  test('maxConnections counts every connection, with or without a token', () => {
    const limits = new ConnectionLimits(2, undefined);
    const first = limits.acquire('a');
    assert.ok(limits.acquire(undefined));
    assert.equal(limits.acquire('b'), undefined);
    first?.();
    assert.ok(limits.acquire('b'), 'a place given back can be taken again');
  });

  test('maxConnectionsPerToken counts each token alone, and not connections without one', () => {
    const limits = new ConnectionLimits(undefined, 2);
    const alice = [limits.acquire('alice'), limits.acquire('alice')];
    assert.equal(limits.acquire('alice'), undefined);
    assert.ok(limits.acquire('bob'));
    assert.ok(Array.from({ length: 10 }, () => limits.acquire(undefined)).every(Boolean));
    alice[0]?.();
    assert.ok(limits.acquire('alice'));
  });

  test('giving a place back twice frees it once', () => {
    const limits = new ConnectionLimits(1, 1);
    const release = limits.acquire('t');
    release?.();
    release?.();
    assert.ok(limits.acquire('t'));
    assert.equal(limits.acquire('u'), undefined, 'the second release did not free a place that was not held');
  });

  test('the total limit applies before the per-token one', () => {
    const limits = new ConnectionLimits(1, 5);
    assert.ok(limits.acquire('a'));
    assert.equal(limits.acquire('b'), undefined);
  });
});
