import parse from 'parse-prometheus-text-format';

/** One sample of a parsed family: a value (counter, gauge) or buckets, count and sum (histogram). */
export interface PromSample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface PromFamily {
  name: string;
  help: string;
  type: string;
  metrics: PromSample[];
}

const parseText = parse as unknown as (t: string) => PromFamily[];

/**
 * The exposition parsed by a Prometheus text-format parser (not by the code under test), with lookups. The library
 * folds a histogram's samples into one when they carry labels other than `le` (their labels and counts are lost), so
 * histograms are read a second time with their TYPE lines left out: each `_count` series then parses as a family of
 * its own, labels intact. Types are in lower case, as written in the exposition.
 */
export function parseMetrics(text: string) {
  const families = parseText(text).map((f) => ({ ...f, type: f.type.toLowerCase() }));
  const series = parseText(text.replace(/^# TYPE \S+ histogram$/gm, ''));
  const family = (name: string) => families.find((f) => f.name === name);
  // One family per label set there (each histogram's series follow one another): gathered by name.
  const countsOf = (name: string) => series.filter((f) => f.name === `${name}_count`).flatMap((f) => f.metrics);
  const matches = (s: PromSample, labels: Record<string, string>) =>
    Object.entries(labels).every(([k, v]) => s.labels?.[k] === v);
  return {
    families,
    family,
    /** A counter's or gauge's value for these labels (0 when absent). */
    value(name: string, labels: Record<string, string> = {}): number {
      const s = family(name)?.metrics.find((m) => matches(m, labels));
      return s?.value === undefined ? 0 : Number(s.value);
    },
    /** A histogram's observation count for these labels (0 when absent). */
    count(name: string, labels: Record<string, string> = {}): number {
      const s = countsOf(name).find((m) => matches(m, labels));
      return s?.value === undefined ? 0 : Number(s.value);
    },
    /** Every value a label takes in a family. */
    labelValues(name: string, label: string): string[] {
      const samples = family(name)?.type === 'histogram' ? countsOf(name) : family(name)?.metrics;
      return [...new Set((samples ?? []).map((m) => m.labels?.[label]).filter((v) => v !== undefined))];
    },
    /** Every label value of every sample (histogram series included): what must never carry an id. */
    allLabelValues(): string[] {
      return [...families, ...series].flatMap((f) => f.metrics.flatMap((m) => Object.values(m.labels ?? {})));
    },
  };
}
