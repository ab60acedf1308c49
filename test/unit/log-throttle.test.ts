import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogThrottle } from '../../lib/utils/log-throttle.js';

test('one line per kind at once, then the count of the others once per interval', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const lines: string[] = [];
  const throttle = new LogThrottle(1000);
  const note = (kind: string) => throttle.note(kind, (more) => lines.push(`${kind} +${more}`));

  for (let index = 0; index < 500; index++) {
    note('timeout');
  }
  note('refused');
  assert.deepEqual(lines, ['timeout +0', 'refused +0'], 'the first of each kind at once');
  t.mock.timers.tick(1000);
  assert.deepEqual(lines.slice(2), ['timeout +499'], 'the others of the interval, counted');
  note('timeout');
  note('timeout');
  t.mock.timers.tick(999);
  assert.equal(lines.length, 3, 'the next line waits a whole interval after the last');
  t.mock.timers.tick(1);
  assert.deepEqual(lines.slice(3), ['timeout +2']);
  t.mock.timers.tick(1000);
  note('timeout');
  assert.deepEqual(lines.slice(4), ['timeout +0'], 'after a quiet interval, the next is logged at once');
  throttle.clear();
});

test('kinds beyond 64 share one, so that what clients send cannot grow the map', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const lines: string[] = [];
  const throttle = new LogThrottle(1000);
  for (let index = 0; index < 1000; index++) {
    throttle.note(`kind ${index}`, (more) => lines.push(`${index} +${more}`));
  }
  assert.equal(lines.length, 65);
  t.mock.timers.tick(1000);
  assert.deepEqual(lines.slice(65), ['999 +935']);
  throttle.clear();
});
