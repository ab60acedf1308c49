import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { StreamPosition } from 'nestjs-easy-ws/client';
import { ChannelPositions } from '../../lib/client/channel-positions.js';

const CHANNEL = 'rooms/1';
const EPOCH = 'e';

/**
 * A model of the server and the wire: frames 1..n of a channel with history, each sent
 * with its position; the wire may drop a frame (the 'drop' policy), send one again (a
 * race with a recovery), or reorder nothing (one socket keeps order). When the client
 * asks to recover, the server answers, at a point the schedule chooses, with every
 * frame after the asked position, in order, then the answer with its position.
 */
interface Step {
  /** What happens to the next live frame. */
  readonly fate: 'delivered' | 'dropped' | 'duplicated';
  /** Whether a pending recovery is answered before it. */
  readonly answer: boolean;
}

function simulate(frames: number, steps: readonly Step[]): number[] {
  const positions = new ChannelPositions();
  const delivered: number[] = [];
  let recoverFrom: StreamPosition | undefined;
  const receive = (offset: number): void => {
    const verdict = positions.next(CHANNEL, { epoch: EPOCH, offset });
    if (verdict.deliver) {
      delivered.push(offset);
    }
    recoverFrom ??= verdict.recoverFrom;
  };
  const answerRecovery = (upTo: number): void => {
    if (!recoverFrom) {
      return;
    }
    const since = recoverFrom.offset;
    recoverFrom = undefined;
    for (let offset = since + 1; offset <= upTo; offset++) {
      receive(offset);
    }
    recoverFrom ??= positions.settle(CHANNEL, { epoch: EPOCH, offset: upTo }, true);
  };
  positions.settle(CHANNEL, { epoch: EPOCH, offset: 0 });
  for (let offset = 1; offset <= frames; offset++) {
    const step = steps[offset % steps.length];
    if (step.answer) {
      answerRecovery(offset - 1);
    }
    if (step.fate !== 'dropped') {
      receive(offset);
    }
    if (step.fate === 'duplicated') {
      receive(offset);
    }
  }
  // The server tells of the frames it dropped at the end, and answers what is left.
  recoverFrom ??= positions.dropped(CHANNEL, { epoch: EPOCH, offset: frames });
  answerRecovery(frames);
  return delivered;
}

test('whatever the wire drops, repeats or races with a recovery, the application gets every frame once, in order', () => {
  const step = fc.record({ fate: fc.constantFrom<Step['fate']>('delivered', 'delivered', 'dropped', 'duplicated'), answer: fc.boolean() });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 200 }), fc.array(step, { minLength: 1, maxLength: 50 }), (frames, steps) => {
      assert.deepEqual(
        simulate(frames, steps),
        Array.from({ length: frames }, (_, index) => index + 1),
      );
    }),
    { numRuns: 2000 },
  );
});

test('a frame under another epoch is delivered, and says that what came before it is lost', () => {
  const positions = new ChannelPositions();
  positions.settle(CHANNEL, { epoch: 'old', offset: 41 });
  assert.deepEqual(positions.next(CHANNEL, { epoch: 'new', offset: 1 }), { deliver: true, lost: true });
  assert.deepEqual(positions.get(CHANNEL), { epoch: 'new', offset: 1 });
});

test('an answer whose position the client has not reached means replayed frames were dropped: recover again', () => {
  const positions = new ChannelPositions();
  positions.settle(CHANNEL, { epoch: EPOCH, offset: 10 });
  assert.deepEqual(positions.settle(CHANNEL, { epoch: EPOCH, offset: 15 }, true), { epoch: EPOCH, offset: 10 });
  assert.equal(positions.settle(CHANNEL, { epoch: EPOCH, offset: 20 }, false), undefined, 'not recovered: start over from the answer');
  assert.deepEqual(positions.get(CHANNEL), { epoch: EPOCH, offset: 20 });
});
