import type { ServerName } from './wire.js';

/** How a metric's values are printed; `fineMicros` has three decimals, for costs below a microsecond. */
type Unit = 'perSecond' | 'ms' | 'kilobytes' | 'micros' | 'fineMicros' | 'percent';

/** The servers a ratio compares ours with, and the target bound (a minimum, or a maximum when lower is better). */
type Targets = Partial<Record<'bareBest' | 'platformWs' | 'socketIo', number>>;

/** One row of the table. */
export interface Metric {
  readonly key: string;
  readonly label: string;
  readonly unit: Unit;
  readonly higherIsBetter: boolean;
  readonly targets?: Targets;
  /** A bound on our own figure, not a ratio: a maximum when lower is better, else a minimum. */
  readonly limit?: number;
}

/** The main table's rows, in order. */
const METRICS: readonly Metric[] = [
  { key: 'rt50', label: 'round trips/s, 50 clients × 8 in flight', unit: 'perSecond', higherIsBetter: true, targets: { bareBest: 0.9, platformWs: 1.4, socketIo: 2.2 } },
  { key: 'rt50p50', label: '  p50 latency (ms), 50 clients', unit: 'ms', higherIsBetter: false },
  { key: 'rt50p99', label: '  p99 latency (ms), 50 clients', unit: 'ms', higherIsBetter: false, targets: { bareBest: 1.2 } },
  { key: 'rt50cpu', label: '  server CPU µs per round trip, 50 clients', unit: 'micros', higherIsBetter: false },
  { key: 'rt10', label: 'round trips/s, 10 clients', unit: 'perSecond', higherIsBetter: true },
  { key: 'rt100', label: 'round trips/s, 100 clients', unit: 'perSecond', higherIsBetter: true },
  { key: 'rt1000', label: 'round trips/s, 1000 clients', unit: 'perSecond', higherIsBetter: true },
  { key: 'rt1000p99', label: '  p99 latency (ms), 1000 clients', unit: 'ms', higherIsBetter: false },
  { key: 'fan100', label: 'fan-out deliveries/s, 100 listeners', unit: 'perSecond', higherIsBetter: true },
  { key: 'fan1000', label: 'fan-out deliveries/s, 1000 listeners', unit: 'perSecond', higherIsBetter: true, targets: { bareBest: 0.8 } },
  { key: 'fan5000', label: 'fan-out deliveries/s, 5000 listeners', unit: 'perSecond', higherIsBetter: true, targets: { bareBest: 0.8 } },
  { key: 'fan10000', label: 'fan-out deliveries/s, 10,000 listeners', unit: 'perSecond', higherIsBetter: true },
  { key: 'push5000', label: 'one push to 5000 listeners, ms to the last', unit: 'ms', higherIsBetter: false, targets: { bareBest: 1.2 } },
  { key: 'memory', label: 'idle memory per connection (KB), 10,000 connections', unit: 'kilobytes', higherIsBetter: false, targets: { bareBest: 1.25 } },
];

/** The columns of absolute figures, in order. */
const COLUMNS: ReadonlyArray<{ server: ServerName; title: string }> = [
  { server: 'ours', title: 'nestjs-easy-ws' },
  { server: 'bareBest', title: 'bare ws, tuned ¹' },
  { server: 'bareSend', title: 'bare ws, ws.send ²' },
  { server: 'platformWs', title: 'Nest + platform-ws' },
  { server: 'socketIo', title: 'Nest + socket.io' },
];

/** The ratio columns: ours divided by each, computed run by run. */
const RATIOS: ReadonlyArray<{ server: keyof Targets; title: string }> = [
  { server: 'bareBest', title: 'ours ÷ bare ws, tuned' },
  { server: 'platformWs', title: 'ours ÷ platform-ws' },
  { server: 'socketIo', title: 'ours ÷ socket.io' },
];

/** What one table shows: its rows, its columns of figures and its columns of ratios. */
export interface Layout {
  readonly metrics: readonly Metric[];
  readonly columns: ReadonlyArray<{ server: ServerName; title: string }>;
  readonly ratios: ReadonlyArray<{ server: keyof Targets; title: string }>;
}

/** The main table: round trips, fan-out and memory, against every server. */
export const MAIN_TABLE: Layout = { metrics: METRICS, columns: COLUMNS, ratios: RATIOS };

/** The scale curve's targets, at its largest level. */
const SCALE_TARGETS = { memory: 1.15, push: 1.2, heartbeatPercent: 2 };

/** The scale curve: ours and the tuned bare server at each of `levels` connections, the targets at the largest. */
export function scaleTable(levels: readonly number[]): Layout {
  const largest = Math.max(...levels);
  const at = (level: number) => level.toLocaleString('en-US');
  const metrics: Metric[] = [
    ...levels.map((level) => ({
      key: `scale${level}memory`,
      label: `idle memory per connection (KB), ${at(level)} connections`,
      unit: 'kilobytes' as const,
      higherIsBetter: false,
      targets: level === largest ? { bareBest: SCALE_TARGETS.memory } : undefined,
    })),
    ...levels.map((level) => ({
      key: `scale${level}heartbeat`,
      label: `idle CPU with the 30 s heartbeat (% of a core), ${at(level)} connections`,
      unit: 'percent' as const,
      higherIsBetter: false,
      limit: level === largest ? SCALE_TARGETS.heartbeatPercent : undefined,
    })),
    ...levels.map((level) => ({
      key: `scale${level}push`,
      label: `one push to ${at(level)} listeners, ms to the last`,
      unit: 'ms' as const,
      higherIsBetter: false,
      targets: level === largest ? { bareBest: SCALE_TARGETS.push } : undefined,
    })),
  ];
  return { metrics, columns: COLUMNS.slice(0, 2), ratios: RATIOS.slice(0, 1) };
}

/**
 * Every measured value, by metric and server, one slot per run, so that a ratio
 * only ever compares figures of the same run.
 */
export class Results {
  private readonly values = new Map<string, Map<ServerName, number[]>>();

  record(metric: string, server: ServerName, run: number, value: number): void {
    let byServer = this.values.get(metric);
    if (!byServer) {
      byServer = new Map();
      this.values.set(metric, byServer);
    }
    const runs = byServer.get(server) ?? [];
    runs[run] = value;
    byServer.set(server, runs);
  }

  /** The values of one server, run by run (holes where a run did not measure it). */
  runs(metric: string, server: ServerName): number[] {
    return this.values.get(metric)?.get(server) ?? [];
  }

  /** Ours (or `base`) divided by `server`, for each run that measured both. */
  ratios(metric: string, server: ServerName, base: ServerName = 'ours'): number[] {
    const ours = this.runs(metric, base);
    const theirs = this.runs(metric, server);
    const ratios: number[] = [];
    ours.forEach((value, run) => {
      const other = theirs[run];
      if (Number.isFinite(value) && Number.isFinite(other) && other > 0) {
        ratios.push(value / other);
      }
    });
    return ratios;
  }
}

/** The median, smallest and largest of the finite values, or `undefined` for none. */
export function summarise(values: readonly number[]): { median: number; min: number; max: number; count: number } | undefined {
  const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (finite.length === 0) {
    return undefined;
  }
  const middle = Math.floor(finite.length / 2);
  const median = finite.length % 2 ? finite[middle] : (finite[middle - 1] + finite[middle]) / 2;
  return { median, min: finite[0], max: finite[finite.length - 1], count: finite.length };
}

function format(value: number, unit: Unit | 'ratio'): string {
  switch (unit) {
    case 'perSecond':
      return Math.round(value).toLocaleString('en-US');
    case 'ms':
      return value < 10 ? value.toFixed(2) : value.toFixed(1);
    case 'kilobytes':
    case 'micros':
      return value.toFixed(1);
    case 'fineMicros':
      return value.toFixed(3);
    case 'percent':
      return `${value.toFixed(2)}%`;
    case 'ratio':
      return `${value.toFixed(2)}×`;
  }
}

/** `median (min–max)`, or the single value, or a dash. */
function cell(values: readonly number[], unit: Unit | 'ratio'): string {
  const summary = summarise(values);
  if (!summary) {
    return '—';
  }
  const median = format(summary.median, unit);
  return summary.count > 1 ? `${median} (${format(summary.min, unit)}–${format(summary.max, unit)})` : median;
}

/** Whether a median meets its bound. */
function meets(metric: Metric, value: number, bound: number): boolean {
  return metric.higherIsBetter ? value >= bound : value <= bound;
}

/** ` ✓` or ` ✗` for a median against its bound, nothing without either. */
function verdict(metric: Metric, values: readonly number[], bound: number | undefined): string {
  const summary = summarise(values);
  return bound === undefined || !summary ? '' : meets(metric, summary.median, bound) ? ' ✓' : ' ✗';
}

function targetText(metric: Metric, results: Results): string {
  const bounds = RATIOS.filter(({ server }) => metric.targets?.[server] !== undefined).map(
    ({ server }) => `${metric.higherIsBetter ? '≥' : '≤'} ${metric.targets?.[server]}× ${server === 'bareBest' ? 'bare' : server === 'platformWs' ? 'platform-ws' : 'socket.io'}`,
  );
  if (metric.limit !== undefined) {
    const limit = `${metric.higherIsBetter ? '≥' : '≤'} ${format(metric.limit, metric.unit)}`;
    bounds.push(limit + verdict(metric, results.runs(metric.key, 'ours'), metric.limit));
  }
  return bounds.join(', ');
}

/** A table of figures, ratios and targets, as Markdown. */
export function renderTable(results: Results, { metrics, columns, ratios }: Layout): string {
  const header = ['scenario', ...columns.map(({ title }) => title), ...ratios.map(({ title }) => title), 'target'];
  const rows = metrics.map((metric) => [
    metric.label,
    ...columns.map(({ server }) => cell(results.runs(metric.key, server), metric.unit)),
    ...ratios.map(({ server }) => {
      const values = results.ratios(metric.key, server);
      return cell(values, 'ratio') + verdict(metric, values, metric.targets?.[server]);
    }),
    targetText(metric, results),
  ]);
  return markdown(header, rows);
}

/** The alternating rounds of ours with metrics off (as `ours`: the mean of the two servers without) and on (as `oursMetrics`). */
export const METRICS_ROUND_TRIP_KEY = 'metrics:rtcpu';
/** The alternating fan-out runs of ours with metrics off (as `ours`) and on (as `oursMetrics`). */
export const METRICS_FAN_OUT_KEY = 'metrics:fancpu';
/** The same rounds with ours off (as `ours`) against a second server of ours off (as `oursMetrics`): the noise. */
export const METRICS_NOISE_KEY = 'metrics:noise';

/** The rows of the metrics' cost: server CPU, to which the bound applies, and the noise beside it. */
const METRICS_COST_ROWS: ReadonlyArray<{ key: string; label: string; unit: Unit; bound?: number; on?: string }> = [
  { key: METRICS_ROUND_TRIP_KEY, label: 'server CPU µs per round trip, 50 clients, alternating rounds', unit: 'micros', bound: 1.05 },
  { key: METRICS_NOISE_KEY, label: '  the same, one server off against the other (the noise)', unit: 'micros', on: 'metrics off too' },
  { key: METRICS_FAN_OUT_KEY, label: 'server CPU µs per fan-out delivery, 1000 listeners, alternating runs', unit: 'fineMicros', bound: 1.05 },
];

/** Ours with metrics on next to ours without, measured in the same runs: the figures, the ratio and its bound. */
export function renderMetricsCost(results: Results): string {
  const header = ['scenario', 'metrics off', 'metrics on', 'on ÷ off', 'target'];
  const rows = METRICS_COST_ROWS.map(({ key, label, unit, bound, on }) => {
    const ratios = results.ratios(key, 'ours', 'oursMetrics');
    const summary = summarise(ratios);
    const mark = bound === undefined || !summary ? '' : summary.median <= bound ? ' ✓' : ' ✗';
    const second = cell(results.runs(key, 'oursMetrics'), unit);
    return [label, cell(results.runs(key, 'ours'), unit), on ? `${second} (${on})` : second, cell(ratios, 'ratio') + mark, bound === undefined ? '' : `≤ ${bound}×`];
  });
  return markdown(header, rows);
}

/** What the metrics' cost measures. */
export const METRICS_COST_NOTES = [
  'The same server with `metrics: true` (prom-client\'s default registry, not scraped during the run) next to it without. Round trips: a server without metrics, one with, and another without, each its own process, measured in turn round after round, the order reversed every other round; metrics on is compared with the mean of the two without, round by round. The second row compares the two without: the spread a ratio has on this machine when nothing differs. Fan-out: the two in turn, each run a fresh process of each, the order reversed every other run: 1000 listeners, the median of five bursts of 100 pushes. With metrics on, every frame is counted (as with metrics off) and each command\'s handler and each push to the broker are timed, two clock readings each.',
];

/** The key under which the pricing records a feature's figure (`rate` or `cpu`); the plain pushes are the feature `plain`. */
export function pricingKey(label: string, figure: 'rate' | 'cpu'): string {
  return `price:${label}:${figure}`;
}

/** The push cost with each feature on, next to plain pushes: figures and ratios to plain, run by run. */
export function renderPricing(results: Results, labels: readonly string[]): string {
  const ratiosToPlain = (label: string, figure: 'rate' | 'cpu'): number[] => {
    const plain = results.runs(pricingKey('plain', figure), 'ours');
    return results
      .runs(pricingKey(label, figure), 'ours')
      .flatMap((value, run) => (Number.isFinite(value) && plain[run] > 0 ? [value / plain[run]] : []));
  };
  const header = ['pushes', 'deliveries/s', '÷ plain', 'server CPU µs per push', '÷ plain'];
  const rows = ['plain', ...labels].map((label) => [
    label,
    cell(results.runs(pricingKey(label, 'rate'), 'ours'), 'perSecond'),
    label === 'plain' ? '' : cell(ratiosToPlain(label, 'rate'), 'ratio'),
    cell(results.runs(pricingKey(label, 'cpu'), 'ours'), 'micros'),
    label === 'plain' ? '' : cell(ratiosToPlain(label, 'cpu'), 'ratio'),
  ]);
  return markdown(header, rows);
}

/** A Markdown table, padded so that it also reads well in a terminal. */
function markdown(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((text, column) => text.padEnd(widths[column])).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** The footnotes the table's column titles point to. */
export const TABLE_NOTES = [
  'Each cell: the median of the runs, with the smallest and largest value in brackets. Ratios are computed run by run (ours and the other server measured in the same run) and then summarised the same way.',
  '¹ Bare `ws` as a careful engineer tunes it, the same text protocol: every reply and every push framed once (header and payload in one buffer) and written to the raw socket, corked so that the frames one socket gets in one tick (the replies to its pipelined requests, a burst of pushes) leave in one syscall; a push is framed once for all its listeners. The targets compare with this server.',
  '² Bare `ws` as its README writes it: one `ws.send` per reply, and a plain loop of `ws.send(frame)` over the listeners for a push, the frame encoded once per push.',
];

/** What the scale curve's figures are. */
export const SCALE_NOTES = [
  'Each level in fresh server processes, ours and the tuned bare server one after the other, both with a heartbeat (ours its own; bare `ws` the one of its README: one timer pings every client). The client sockets come from several loopback addresses once one would run out of ports.',
  'Idle memory: the server\'s RSS after a full GC with the connections open, minus before, per connection. Idle CPU: the server\'s CPU time over one whole heartbeat interval (from the end of one round of pings to the end of the next, the pongs included), run at a shorter interval and taken as a share of the 30 s of the default one. One push: the time from the command until the last listener has it, the median of a few pushes made between heartbeat rounds.',
];
