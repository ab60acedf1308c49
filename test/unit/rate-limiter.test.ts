import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../lib/endpoint/rate-limiter.js';

/** A limiter and its clock: the test moves time, nothing waits. */
function limiter(framesPerSecond: number, burst: number, maxRejections = 3, rejectionWindow = 1000) {
  let now = 10_000;
  const bucket = new RateLimiter({ framesPerSecond, burst, maxRejections, rejectionWindow }, now);
  return {
    take: () => bucket.take(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('the rate limiter of a session', () => {
  test('passes a burst at once, then limits', () => {
    const clock = limiter(10, 5);
    assert.deepEqual(Array.from({ length: 6 }, clock.take), ['pass', 'pass', 'pass', 'pass', 'pass', 'limited']);
  });

  test('gives a token back every 1/framesPerSecond of a second', () => {
    const clock = limiter(10, 1);
    assert.equal(clock.take(), 'pass');
    clock.advance(99);
    assert.equal(clock.take(), 'limited');
    clock.advance(1);
    assert.equal(clock.take(), 'pass', 'the refill counts the time since the last frame, not since the last pass');
  });

  test('never holds more than the burst, however long the quiet spell', () => {
    const clock = limiter(100, 3);
    clock.advance(3_600_000);
    assert.deepEqual(Array.from({ length: 4 }, clock.take), ['pass', 'pass', 'pass', 'limited']);
  });

  test('calls a client abusive after maxRejections refusals within the window', () => {
    const clock = limiter(1, 1, 3, 1000);
    assert.equal(clock.take(), 'pass');
    assert.deepEqual([clock.take(), clock.take(), clock.take()], ['limited', 'limited', 'abusive']);
  });

  test('starts counting refusals again once the window has passed', () => {
    const clock = limiter(0.001, 1, 3, 1000);
    assert.equal(clock.take(), 'pass');
    assert.deepEqual([clock.take(), clock.take()], ['limited', 'limited']);
    clock.advance(1001);
    assert.deepEqual([clock.take(), clock.take()], ['limited', 'limited'], 'two refusals in a new window are not abuse');
    assert.equal(clock.take(), 'abusive');
  });
});
