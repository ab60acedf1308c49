import type { EndpointStats } from '../endpoint/endpoint-stats.js';
import type { CommandStats } from '../handlers/command-stats.js';
import type { Broker } from '../push/broker.interface.js';
import type { PushStats } from '../push/push-stats.js';
import type { SessionRegistry } from '../push/session-registry.js';
import type { DurationHistogram } from '../utils/duration-histogram.js';
import { ScrapedHistogram } from './scraped-histogram.js';

type PromClient = typeof import('prom-client');

/** Where the metrics read their values when scraped. */
export interface MetricSources {
  readonly endpoint: EndpointStats;
  readonly push: PushStats;
  readonly commands: CommandStats;
  readonly sessions: SessionRegistry;
  readonly broker: Broker;
}

/**
 * Every metric, each reading its value from the server's plain counts when the
 * registry is scraped (`collect()`), so that nothing on the paths of frames and pushes
 * calls into prom-client. docs/observability.md lists them.
 */
export function defineMetrics(prom: PromClient, prefix: string, sources: MetricSources): object[] {
  const { endpoint, push, commands, sessions, broker } = sources;
  const gauge = (name: string, help: string, read: () => number) =>
    new prom.Gauge({
      name: prefix + name,
      help,
      registers: [],
      collect() {
        this.set(read());
      },
    });
  const counter = (name: string, help: string, read: () => number) =>
    new prom.Counter({
      name: prefix + name,
      help,
      registers: [],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  const counterBy = (name: string, help: string, label: string, read: () => Iterable<readonly [string, number]>) =>
    new prom.Counter({
      name: prefix + name,
      help,
      labelNames: [label],
      registers: [],
      collect() {
        this.reset();
        for (const [value, count] of read()) {
          this.inc({ [label]: value }, count);
        }
      },
    });
  const durationsByCommand = function* (): Iterable<readonly [string, DurationHistogram]> {
    for (const [command, { durations }] of commands.commands) {
      if (durations) {
        yield [command, durations];
      }
    }
  };
  return [
    gauge('connections', 'Sessions open now.', () => sessions.sessionCount),
    counter('connections_opened_total', 'Sessions opened.', () => endpoint.connectionsOpened),
    counterBy('connections_closed_total', 'Sessions closed, by close code (1006: dropped without a close frame; other: a code outside the protocol and the library).', 'code', () => endpoint.connectionsClosed),
    counterBy('handshakes_refused_total', 'WebSocket upgrades refused, by reason.', 'reason', () => Object.entries(endpoint.handshakesRefused)),
    counterBy('frames_received_total', 'Frames received within the rate limit, by command (unknown: a command nobody registered).', 'command', function* () {
      for (const [command, { frames }] of commands.commands) {
        yield [command, frames];
      }
    }),
    counter('frames_sent_total', 'Frames written to clients.', () => endpoint.framesSent),
    new ScrapedHistogram(`${prefix}handler_duration_seconds`, 'How long a frame took from its dispatch until its handler\'s result was sent, by command.', 'command', durationsByCommand),
    counterBy('notices_total', 'Failure notices given, by notice (application: a WsException of the application).', 'notice', () => endpoint.notices),
    gauge('channels', 'Channels with at least one listener on this instance.', () => sessions.channelCount),
    gauge('channel_listeners', 'Listeners of all channels on this instance.', () => sessions.listenerCount),
    counter('push_deliveries_total', 'Frames of pushes handed to sessions of this instance.', () => push.deliveries),
    counter('frames_dropped_total', "Frames not written to a slow client under the 'drop' policy.", () => endpoint.framesDropped),
    counter('slow_consumer_closes_total', "Sessions closed for reading too slowly under the 'close' policy.", () => endpoint.slowConsumerCloses),
    counter('rate_limited_total', 'Frames refused by the rate limit.', () => endpoint.rateLimited),
    new ScrapedHistogram(`${prefix}broker_publish_duration_seconds`, 'How long the broker took to take a push (for Redis, until Redis answered).', undefined, function* () {
      if (push.publishDurations) {
        yield ['', push.publishDurations];
      }
    }),
    gauge('broker_connected', 'Whether pushes reach the other instances now (1) or not (0).', () => (broker.connected === false ? 0 : 1)),
    counter('history_pushes_total', 'Channel pushes kept in history.', () => push.historyPushes),
    counterBy('history_recoveries_total', 'Recoveries after a reconnect or a gap, by result (not_recovered: the history had moved on).', 'result', () => [
      ['recovered', commands.recovered],
      ['not_recovered', commands.notRecovered],
    ]),
    counter('presence_joins_total', 'Sessions of this instance that joined a presence channel.', () => push.presenceJoins),
    counter('presence_leaves_total', 'Sessions of this instance that left a presence channel.', () => push.presenceLeaves),
  ];
}
