import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteBacklog } from '../../lib/endpoint/write-backlog.js';

const LIMIT = 1000;
const GRACE = 500;

/** A backlog that began at 10 000 ms, and the clock the test moves. */
function backlog(grace = GRACE) {
  let now = 10_000;
  const judged = new WriteBacklog(LIMIT, grace, now);
  return {
    admits: (frameBytes: number) => judged.admits(frameBytes, now),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('the backlog of a session that has maxBufferedBytes waiting', () => {
  test('admits the first frame however big: a reply larger than the limit is written whole', () => {
    assert.equal(backlog().admits(5_000_000), true);
  });

  test('admits frames up to the limit in bytes more, then counts the client as slow', () => {
    const clock = backlog();
    assert.deepEqual([400, 400, 199, 1, 1].map(clock.admits), [true, true, true, true, false]);
  });

  test('after one frame bigger than the limit, nothing more is admitted', () => {
    const clock = backlog();
    assert.equal(clock.admits(5_000), true);
    assert.equal(clock.admits(1), false);
  });

  test('counts the client as slow once the grace has passed, however little was written', () => {
    const clock = backlog();
    assert.equal(clock.admits(10), true);
    clock.advance(GRACE - 1);
    assert.equal(clock.admits(10), true, 'still within the grace');
    clock.advance(1);
    assert.equal(clock.admits(10), false);
  });

  test('a grace of 0 judges at once, at the first frame that finds the buffer full', () => {
    assert.equal(backlog(0).admits(1), false);
  });
});
