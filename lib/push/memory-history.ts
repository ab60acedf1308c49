import { randomBytes } from 'node:crypto';
import type { Message } from '../protocol/message.js';
import type { StreamPosition } from '../protocol/rules.js';
import type { HistoryEntry, HistoryPage, HistorySettings, HistoryStore } from './broker.interface.js';

/** A new epoch: short, random, and never what another run of the same channel had. */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

interface KeptFrame extends HistoryEntry {
  /** When it was kept, by the store's clock. */
  readonly at: number;
}

/** One channel's history: the latest frames, oldest first, under one epoch. */
class ChannelHistory {
  readonly epoch = newEpoch();
  offset = 0;
  frames: KeptFrame[] = [];

  constructor(public settings: HistorySettings) {}

  /** Drops what is beyond `size` or older than `ttl`. */
  trim(now: number): void {
    const { size, ttl } = this.settings;
    let first = Math.max(0, this.frames.length - size);
    while (first < this.frames.length && this.frames[first].at <= now - ttl) {
      first++;
    }
    if (first > 0) {
      this.frames = this.frames.slice(first);
    }
  }
}

/**
 * The history of the in-process broker: the latest frames of each channel that keeps
 * one, in memory. A channel's history, and with it its epoch, is forgotten once every
 * frame in it has expired while no local listener needs it.
 */
export class MemoryHistory implements HistoryStore {
  private readonly channels = new Map<string, ChannelHistory>();

  /** @param now the clock that frames expire by, in milliseconds. */
  constructor(private readonly now: () => number) {}

  /** Keeps `message` as the channel's next frame and returns its position. */
  append(channel: string, message: Message, settings: HistorySettings): StreamPosition {
    const history = this.historyOf(channel, settings);
    const now = this.now();
    history.offset += 1;
    history.frames.push({ offset: history.offset, message, at: now });
    history.trim(now);
    return { epoch: history.epoch, offset: history.offset };
  }

  async read(channel: string, settings: HistorySettings, { since, limit }: { since?: number; limit?: number }): Promise<HistoryPage> {
    const history = this.historyOf(channel, settings);
    history.trim(this.now());
    let frames = since === undefined ? history.frames : history.frames.filter((frame) => frame.offset > since);
    if (limit !== undefined) {
      frames = frames.slice(Math.max(0, frames.length - limit));
    }
    return {
      position: { epoch: history.epoch, offset: history.offset },
      messages: frames.map(({ offset, message }) => ({ offset, message })),
    };
  }

  /** Forgets the histories of the channels, among those `idle` says no listener needs, whose frames have all expired. */
  forgetExpired(idle: (channel: string) => boolean): void {
    const now = this.now();
    for (const [channel, history] of this.channels) {
      if (idle(channel)) {
        history.trim(now);
        if (history.frames.length === 0) {
          this.channels.delete(channel);
        }
      }
    }
  }

  /** How many channels have a history kept now. */
  get size(): number {
    return this.channels.size;
  }

  private historyOf(channel: string, settings: HistorySettings): ChannelHistory {
    let history = this.channels.get(channel);
    if (!history) {
      history = new ChannelHistory(settings);
      this.channels.set(channel, history);
    }
    history.settings = settings;
    return history;
  }
}
