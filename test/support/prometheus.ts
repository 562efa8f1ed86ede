import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

/** One series of a family: a counter's or gauge's value, or a histogram's buckets, sum and count. */
export interface ScrapedSeries {
  labels: Record<string, string>;
  value?: number;
  /** Cumulative counts by upper bound (`le`), in the order the text lists them. */
  buckets?: Array<[string, number]>;
  sum?: number;
  count?: number;
}

/**
 * Prometheus' text exposition format read back with a third-party parser
 * (parse-prometheus-text-format 1.1.1, which throws on any line that is not valid), so that
 * tests assert what a scraper would see rather than what Ferry meant to write.
 *
 * That parser folds every series of a labelled histogram into one unlabelled entry; so
 * histograms are read from a second parse of the same text in which their `# TYPE` lines say
 * `untyped`, where each `_bucket`, `_sum` and `_count` line is a plain sample with its labels.
 */
export class Scrape {
  readonly families: ParsedFamily[];
  private readonly plain: ParsedFamily[];

  constructor(readonly text: string) {
    this.families = parsePrometheusTextFormat(text);
    this.plain = parsePrometheusTextFormat(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped'));
  }

  family(name: string): ParsedFamily {
    const found = this.families.find((f) => f.name === name);
    if (!found) throw new Error(`no metric family ${name} in the scrape; families: ${this.families.map((f) => f.name).join(', ')}`);
    return found;
  }

  /** Every series of `name` whose labels include all of `labels`. */
  all(name: string, labels: Record<string, string> = {}): ScrapedSeries[] {
    const matches = (l: Record<string, string> = {}) => Object.entries(labels).every(([k, v]) => l[k] === v);
    const family = this.family(name);
    if (family.type !== 'HISTOGRAM') {
      return family.metrics.filter((m) => matches(m.labels)).map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) }));
    }
    const series = new Map<string, ScrapedSeries>();
    const seriesOf = (l: Record<string, string>) => {
      const key = JSON.stringify(Object.entries(l).sort());
      let found = series.get(key);
      if (!found) series.set(key, (found = { labels: l, buckets: [] }));
      return found;
    };
    for (const suffix of ['_bucket', '_sum', '_count'] as const) {
      // Interleaved per series, the suffixed lines come back as several families of one name each.
      for (const m of this.plain.filter((f) => f.name === `${name}${suffix}`).flatMap((f) => f.metrics)) {
        const { le, ...rest } = m.labels ?? {};
        if (!matches(rest)) continue;
        const s = seriesOf(rest);
        if (suffix === '_bucket') s.buckets!.push([le!, Number(m.value)]);
        else if (suffix === '_sum') s.sum = Number(m.value);
        else s.count = Number(m.value);
      }
    }
    return [...series.values()];
  }

  /** The one series of `name` whose labels include all of `labels`; undefined when there is none. */
  series(name: string, labels: Record<string, string> = {}): ScrapedSeries | undefined {
    const matching = this.all(name, labels);
    if (matching.length > 1) throw new Error(`${matching.length} series of ${name} match ${JSON.stringify(labels)}`);
    return matching[0];
  }

  /** The value of a counter or gauge series (0 when the series does not exist, as a counter not yet incremented). */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.series(name, labels)?.value ?? 0;
  }
}
