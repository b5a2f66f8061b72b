/** One benchmark line: a value and, where measured in the same run, its baseline and the ratio. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: string | null;
  baselineValue: number | null;
  ratio: number | null;
  goal?: string;
  note?: string;
}

export function result(
  name: string,
  value: number,
  unit: string,
  base?: { name: string; value: number },
  extra: { goal?: string; note?: string } = {},
): BenchResult {
  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  return {
    name,
    value: r3(value),
    unit,
    baseline: base?.name ?? null,
    baselineValue: base ? r3(base.value) : null,
    ratio: base ? r3(value / base.value) : null,
    ...extra,
  };
}

/** Median of repeated measurements: shared machines are noisy. */
export async function medianOf(runs: number, fn: () => Promise<number> | number): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < runs; i++) values.push(await fn());
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)]!;
}
