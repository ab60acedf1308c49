import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fc from 'fast-check';
import WebSocket from 'ws';
import { ACKNOWLEDGED_SUBPROTOCOL, LEGACY_SUBPROTOCOL } from 'nestjs-easy-ws';
import { connectWelcomed } from '../../support/scenario-handlers.js';
import { ServerProcess } from '../../support/server-process.js';

/**
 * 100,000 random and malformed frames over real sockets, against a server in its own
 * process. Each frame's answer is predicted from PROTOCOL.md by the model below (not by
 * the library's code), and checked byte for byte: a reply, the notice the protocol
 * names, silence where the protocol says so, or the close code for a frame that
 * breaks the WebSocket protocol itself. A normal client is served beside them all along.
 */
const FRAMES = 100_000;
const CONNECTIONS = 12;
const MAX_BATCH = 200;
const MAX_PAYLOAD = 64 * 1024; // the default
/** Low, so that the limit is reached often. */
const MAX_CHANNELS = 4;
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_125);
/** Generous: the point is that the normal client is served all along, on a machine busy with the fuzzing. */
const NORMAL_CLIENT_DELAY_BOUND_MS = 2_000;

/** A frame as the fuzzer sends it, and the close code it must cause, if it breaks WebSocket itself. */
interface FuzzFrame {
  readonly bytes: Buffer;
  readonly binary: boolean;
  readonly closes?: 1007 | 1009;
}

// ---- the frames ----------------------------------------------------------------

const anyText = fc.string({ unit: 'binary', maxLength: 300 });
const controlText = fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code)), maxLength: 20 });
const command = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('echo', 'listen', 'unlisten') },
  { weight: 1, arbitrary: fc.constantFrom('websocket', 'Echo', 'listen ', 'a:b', 'ech', 'echo\u0000') },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }) },
  { weight: 1, arbitrary: controlText },
  { weight: 1, arbitrary: fc.constantFrom(254, 255, 256, 300).map((length) => 'c'.repeat(length)) },
);
const channel = fc.oneof(
  fc.constantFrom('news', 'ticker', 'chat', 'rooms/', 'rooms/a/b', '/rooms/1', 'rooms', 'NEWS', ''),
  fc.integer({ min: 0, max: 9 }).map((room) => `rooms/${room}`),
  fc.string({ unit: 'binary', maxLength: 12 }).map((room) => `rooms/${room}`),
  fc.constantFrom(249, 250, 251).map((length) => `rooms/${'r'.repeat(length)}`), // 255 bytes and around
  anyText,
);
const structured = fc
  .tuple(command, fc.oneof(channel, anyText, controlText), fc.boolean())
  .map(([name, data, binary]): FuzzFrame => ({ bytes: Buffer.from(`${name}: ${data}`), binary }));
const specials = fc
  .tuple(fc.constantFrom('', ': ', ': : ', ':', ' :', ': echo: x', 'echo:', 'echo :x', 'echo:  ', '\u0000: \u0001', '\r\n: \t', 'echo: \u0000\u0007\u001b'), fc.boolean())
  .map(([text, binary]): FuzzFrame => ({ bytes: Buffer.from(text), binary }));
/** A frame that the protocol answers. */
const frame: fc.Arbitrary<FuzzFrame> = fc.oneof(
  { weight: 30, arbitrary: structured },
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ bytes: Buffer.from(bytes), binary: true })) },
  { weight: 8, arbitrary: anyText.map((text) => ({ bytes: Buffer.from(text), binary: false })) },
  { weight: 4, arbitrary: specials },
);
/** A frame that breaks WebSocket itself, so ws closes the connection. */
const fatalFrame: fc.Arbitrary<FuzzFrame> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc
      // Last, so that no byte after it can complete it: a stray byte, a truncated sequence, an encoded surrogate.
      .tuple(fc.constantFrom('echo: ', 'listen: ', '', 'x: '), fc.uint8Array({ maxLength: 20 }), fc.constantFrom([0xff], [0xc3], [0xed, 0xa0, 0x80]))
      .map(([head, middle, invalid]): FuzzFrame => ({ bytes: Buffer.concat([Buffer.from(head), middle, Buffer.from(invalid)]), binary: false, closes: 1007 })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 100 }).map((extra): FuzzFrame => ({ bytes: Buffer.alloc(MAX_PAYLOAD + extra, 0x61), binary: false, closes: 1009 })),
  },
);
/** A batch: how many frames are sent at once, and, for one batch in eight, the frame that ends it and its connection. */
const batchPlan = fc.record({
  size: fc.integer({ min: 1, max: MAX_BATCH }),
  fatal: fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fatalFrame }),
});

// ---- the model of the protocol ---------------------------------------------------

type Expectation =
  | { readonly kind: 'welcome' }
  /** The echo that ends a batch: its answer proves that nothing else is still due. */
  | { readonly kind: 'sync' }
  | { readonly kind: 'reply'; readonly bytes: Buffer; readonly binary: boolean }
  | { readonly kind: 'notice'; readonly text: string; readonly ack: object }
  | { readonly kind: 'silent' };

const NOT_SUPPORTED = 'command not supported by server';
const SEPARATOR = Buffer.from(': ');

/** Declared in the scenario: three exact channels and the pattern `rooms/:room`. */
function channelExists(name: string): boolean {
  return ['news', 'ticker', 'chat'].includes(name) || (/^rooms\/[^/]+$/.test(name) && Buffer.byteLength(name) <= 255);
}

/** How an answer names a channel: whole, or, when it is longer than any channel can be, by its first 255 bytes and "…". */
function namedChannel(name: string): string {
  let prefix = '';
  for (const character of name) {
    if (Buffer.byteLength(prefix + character) > 255) {
      return `${prefix}…`;
    }
    prefix += character;
  }
  return name;
}

/** What the server must answer to `sent`, per PROTOCOL.md, for a session in this state. */
function predict(sent: FuzzFrame, listening: Set<string>, acknowledged: boolean): Expectation {
  const notice = (text: string, ack: object): Expectation => ({ kind: 'notice', text, ack: { ...ack, ok: false, error: text } });
  const ok = (ack: object): Expectation => (acknowledged ? { kind: 'notice', text: '', ack: { ...ack, ok: true } } : { kind: 'silent' });
  // The first ": " within the first 256 bytes; none, or one at position 0, means no command.
  const separator = sent.bytes.subarray(0, 257).indexOf(SEPARATOR);
  if (separator <= 0) {
    return notice(NOT_SUPPORTED, { op: 'frame' });
  }
  const name = sent.bytes.toString('utf8', 0, separator);
  const data = sent.bytes.subarray(separator + 2);
  if (name === 'listen' || name === 'unlisten') {
    const target = data.toString('utf8');
    const subject = { op: name, channel: namedChannel(target) };
    if (name === 'unlisten') {
      return listening.delete(target) ? ok(subject) : notice('not listening', subject);
    }
    if (!channelExists(target)) {
      return notice('channel does not exist', subject);
    }
    if (listening.has(target)) {
      return notice('already listening', subject);
    }
    if (listening.size >= MAX_CHANNELS) {
      return notice('too many channels', subject);
    }
    listening.add(target);
    return ok(subject);
  }
  if (name === 'echo') {
    return { kind: 'reply', bytes: Buffer.concat([Buffer.from('echo: '), data]), binary: sent.binary };
  }
  return notice(NOT_SUPPORTED, { op: 'command', command: name });
}

// ---- one fuzzing connection ---------------------------------------------------------

/** What happened to every frame sent. */
const tally = { sent: 0, answered: 0, silent: 0, closed1007: 0, closed1009: 0, cutOffByClose: 0, notices: new Map<string, number>() };

class FuzzConnection {
  private readonly expected: Expectation[] = [{ kind: 'welcome' }];
  private readonly listening = new Set<string>();
  private settled: (() => void) | undefined;
  private failure: Error | undefined;
  readonly closed: Promise<number>;

  private constructor(
    private readonly socket: WebSocket,
    private readonly acknowledged: boolean,
  ) {
    socket.on('message', (data: Buffer, binary: boolean) => this.receive(data, binary));
    this.closed = once(socket, 'close').then(([code]) => code as number);
    void this.closed.then((code) => this.fail(new Error(`the connection closed (${code}) while answers were due`)));
  }

  static async open(url: string, acknowledged: boolean): Promise<FuzzConnection> {
    const socket = new WebSocket(url, [acknowledged ? ACKNOWLEDGED_SUBPROTOCOL : LEGACY_SUBPROTOCOL]);
    const connection = new FuzzConnection(socket, acknowledged);
    await once(socket, 'open');
    return connection;
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends the frames and checks every answer; a batch may end with one frame that closes the connection. */
  async run(frames: FuzzFrame[]): Promise<void> {
    const last = frames[frames.length - 1];
    for (const sent of frames) {
      if (!sent.closes) {
        this.expected.push(predict(sent, this.listening, this.acknowledged));
      }
      this.socket.send(sent.bytes, { binary: sent.binary });
    }
    tally.sent += frames.length;
    if (last.closes) {
      const code = await this.closed;
      assert.equal(code, last.closes, `a frame that breaks WebSocket closes with ${last.closes}`);
      tally[last.closes === 1007 ? 'closed1007' : 'closed1009'] += 1;
      // Frames still waiting when ws closed the connection are answered by that close code.
      tally.cutOffByClose += this.expected.length;
      this.expected.length = 0;
    } else {
      this.expected.push({ kind: 'sync' });
      this.socket.send('echo: sync');
      await new Promise<void>((resolve) => (this.settled = resolve));
    }
    if (this.failure) {
      throw this.failure;
    }
  }

  close(): Promise<number> {
    this.socket.close();
    return this.closed;
  }

  terminate(): void {
    this.socket.terminate();
  }

  private receive(data: Buffer, binary: boolean): void {
    while (this.expected[0]?.kind === 'silent') {
      this.expected.shift();
      tally.silent += 1;
    }
    const expectation = this.expected.shift();
    try {
      assert.ok(expectation, `an unexpected frame: ${data.toString().slice(0, 80)}`);
      this.match(expectation, data, binary);
      if (expectation.kind === 'sync') {
        assert.equal(this.expected.length, 0);
        this.settle();
      } else if (expectation.kind !== 'welcome') {
        tally.answered += 1;
      }
    } catch (error) {
      this.fail(error as Error);
      this.socket.terminate();
    }
  }

  private match(expectation: Expectation, data: Buffer, binary: boolean): void {
    switch (expectation.kind) {
      case 'welcome':
        assert.match(data.toString(), /^welcome: [0-9a-f-]{36}$/);
        return;
      case 'sync':
        assert.equal(data.toString(), 'echo: sync');
        return;
      case 'reply':
        assert.equal(binary, expectation.binary, 'a reply keeps the frame type');
        assert.ok(data.equals(expectation.bytes), `expected ${expectation.bytes.toString().slice(0, 60)}, got ${data.toString().slice(0, 60)}`);
        return;
      case 'notice': {
        assert.equal(binary, false);
        const text = data.toString();
        if (this.acknowledged) {
          assert.ok(text.startsWith('websocket: '), text);
          assert.deepEqual(JSON.parse(text.slice('websocket: '.length)), expectation.ack);
        } else {
          assert.equal(text, `websocket: ${expectation.text}`);
        }
        tally.notices.set(expectation.text || 'ok', (tally.notices.get(expectation.text || 'ok') ?? 0) + 1);
        return;
      }
      case 'silent':
        throw new Error('unreachable');
    }
  }

  private fail(error: Error): void {
    if (this.settled) {
      this.failure ??= error;
      this.settle();
    }
  }

  private settle(): void {
    this.settled?.();
    this.settled = undefined;
  }
}

// ---- the run ---------------------------------------------------------------------

let server: ServerProcess;
before(async () => {
  server = await ServerProcess.start({ maxChannelsPerSession: MAX_CHANNELS });
});
after(async () => {
  assert.equal(await server.stop(), 0, 'the server process never crashed and shut down cleanly');
});

/** The frames in batches drawn from SEED. */
function* batches(frames: FuzzFrame[]): Generator<FuzzFrame[]> {
  let start = 0;
  while (start < frames.length) {
    for (const { size, fatal } of fc.sample(batchPlan, { numRuns: 100, seed: SEED + start })) {
      const batch = frames.slice(start, start + size);
      start += batch.length;
      if (fatal) {
        batch[batch.length - 1] = fatal;
      }
      if (batch.length > 0) {
        yield batch;
      }
    }
  }
}

test(`${FRAMES} random and malformed frames: each gets its answer or its close code; the server lives and serves a normal client`, { timeout: 120_000 }, async () => {
  const started = Date.now();
  // Drawn before anything runs, so that the drawing does not hold up the clients.
  const queue = batches(fc.sample(frame, { numRuns: FRAMES, seed: SEED }));

  // The normal client: an echo at a time, all through the run.
  const normal = await connectWelcomed(server.url);
  // Set when the run is over, or as soon as anything failed, so that nothing outlives the test.
  let stop = false;
  const stopOnFailure = async (work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      stop = true;
      throw error;
    }
  };
  const normalDelays: number[] = [];
  const normalRun = stopOnFailure(async () => {
    for (let request = 0; !stop; request++) {
      const sentAt = Date.now();
      assert.equal(await normal.request(`echo: normal ${request}`), `echo: normal ${request}`);
      normalDelays.push(Date.now() - sentAt);
    }
  });

  let connectionsOpened = 1;
  const connections = new Set<FuzzConnection>();
  try {
    await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, worker) =>
        stopOnFailure(async () => {
          let connection: FuzzConnection | undefined;
          for (let batch = queue.next(); !batch.done && !stop; batch = queue.next()) {
            if (!connection?.isOpen) {
              connection = await FuzzConnection.open(server.url, worker % 2 === 0);
              connections.add(connection);
              connectionsOpened += 1;
            }
            await connection.run(batch.value);
          }
          if (connection?.isOpen) {
            await connection.close();
          }
        }),
      ),
    );
  } finally {
    stop = true;
    await normalRun.catch(() => undefined);
    connections.forEach((connection) => connection.terminate());
  }
  await normalRun;
  const fuzzMs = Date.now() - started;
  await normal.close();

  // Every frame is accounted for: answered, proven silent, or ended by a close code.
  assert.equal(tally.sent, FRAMES);
  assert.equal(tally.answered + tally.silent + tally.closed1007 + tally.closed1009 + tally.cutOffByClose, FRAMES);
  assert.ok(tally.closed1007 > 0 && tally.closed1009 > 0, 'both kinds of protocol breach were sent');

  const maxDelay = Math.max(...normalDelays);
  console.log(
    `# fuzz: ${FRAMES} frames on ${connectionsOpened} connections in ${fuzzMs} ms (seed ${SEED}): ` +
      `${tally.answered} answered, ${tally.silent} silent as the protocol says, ` +
      `${tally.closed1007} closed with 1007, ${tally.closed1009} with 1009, ${tally.cutOffByClose} unanswered before those closes`,
  );
  console.log(`# notices: ${JSON.stringify(Object.fromEntries(tally.notices))}`);
  console.log(`# normal client: ${normalDelays.length} echoes answered, max delay ${maxDelay} ms`);
  assert.ok(normalDelays.length >= 20, 'the normal client was served all through the run');
  assert.ok(maxDelay <= NORMAL_CLIENT_DELAY_BOUND_MS, `the normal client waited at most ${maxDelay} ms`);

  await server.waitClosed(connectionsOpened);
  const stats = await server.stats();
  assert.deepEqual({ sessions: stats.sessionCount, channels: stats.channelCount }, { sessions: 0, channels: 0 }, 'nothing is left behind');
});
