import { execFile } from 'node:child_process';

/** One sample of a scrape: its name (with `_bucket`, `_sum`, `_count`, `_total` as written), labels and value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One metric family of a scrape, as the parser read it. */
export interface MetricFamily {
  /** The family's name; a counter's is without `_total`, as the parser gives it. */
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly samples: readonly Sample[];
}

/**
 * Python's official Prometheus client parses the exposition text (Debian's
 * python3-prometheus-client): the reference reader of the format, so that what the
 * tests check is what Prometheus would scrape, and a malformed line fails the parse.
 */
const PARSER = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
families = []
for family in text_string_to_metric_families(sys.stdin.read()):
    families.append({
        "name": family.name, "type": family.type, "help": family.documentation,
        "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples],
    })
print(json.dumps(families))
`;

/** The exposition text parsed into its metric families. */
export function parseExposition(text: string): Promise<MetricFamily[]> {
  return new Promise((resolve, reject) => {
    const child = execFile('/usr/bin/python3', ['-c', PARSER], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`the exposition text does not parse: ${stderr || error.message}`));
      } else {
        resolve(JSON.parse(stdout) as MetricFamily[]);
      }
    });
    child.stdin?.end(text);
  });
}

/** A parsed scrape, to look samples up in. */
export class Scrape {
  constructor(readonly families: readonly MetricFamily[]) {}

  /** The family called `name`, which must be there. */
  family(name: string): MetricFamily {
    const family = this.families.find((each) => each.name === name);
    if (!family) {
      throw new Error(`no metric family ${name} in the scrape; there are ${this.families.map((each) => each.name).join(', ')}`);
    }
    return family;
  }

  /** The value of the one sample called `name` with exactly these labels, which must be there. */
  value(name: string, labels: Record<string, string> = {}): number {
    const matching = this.families.flatMap((family) => family.samples).filter((sample) => sample.name === name && sameLabels(sample.labels, labels));
    if (matching.length !== 1) {
      throw new Error(`${matching.length} samples ${name}${JSON.stringify(labels)} in the scrape, expected one`);
    }
    return matching[0].value;
  }

  /** Every value the label `label` takes among the samples called `name`. */
  labelValues(name: string, label: string): string[] {
    return [...new Set(this.families.flatMap((family) => family.samples).filter((sample) => sample.name === name).map((sample) => sample.labels[label]))].sort();
  }
}

function sameLabels(actual: Readonly<Record<string, string>>, expected: Record<string, string>): boolean {
  const keys = Object.keys(actual);
  return keys.length === Object.keys(expected).length && keys.every((key) => actual[key] === expected[key]);
}

/** GETs `path` of the app on 127.0.0.1 and parses the answer as a Prometheus scrape. */
export async function scrape(port: number, path = '/metrics'): Promise<Scrape> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  if (!response.ok) {
    throw new Error(`GET ${path} answered ${response.status}`);
  }
  return new Scrape(await parseExposition(await response.text()));
}
