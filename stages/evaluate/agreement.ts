/**
 * How well a model's discrete choice k (the component with the smallest reconstruction error)
 * matches the class labels: the contingency table, component usage, purity and normalized
 * mutual information. The note claims k captures the category; these measure it.
 *
 * @module
 */

/** Counts of (component k, class c) pairs: `counts[k][c]`. */
export interface Contingency {
  counts: number[][];
  total: number;
}

/** Builds the K×C contingency table of `choice` against `labels` (same length). */
export function contingency(
  choice: Int32Array,
  labels: Uint8Array,
  components: number,
  classes: number,
): Contingency {
  if (choice.length !== labels.length) {
    throw new Error(`contingency: ${choice.length} choices but ${labels.length} labels`);
  }
  const counts = Array.from({ length: components }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < choice.length; i++) {
    const k = choice[i];
    const c = labels[i];
    if (!(k >= 0 && k < components)) {
      throw new Error(`contingency: choice ${k} at index ${i} is outside 0..${components - 1}`);
    }
    if (c >= classes) {
      throw new Error(`contingency: label ${c} at index ${i} is outside 0..${classes - 1}`);
    }
    counts[k][c]++;
  }
  return { counts, total: choice.length };
}

/** How many items chose each component. */
export function usage({ counts }: Contingency): number[] {
  return counts.map((row) => row.reduce((a, b) => a + b, 0));
}

/** The most frequent class of each component, or null for a component nobody chose. */
export function majorityClass({ counts }: Contingency): (number | null)[] {
  return counts.map((row) => {
    let best: number | null = null;
    for (let c = 0; c < row.length; c++) {
      if (row[c] > 0 && (best === null || row[c] > row[best])) best = c;
    }
    return best;
  });
}

/** Purity: the fraction of items whose class is the majority class of their component. */
export function purity(table: Contingency): number {
  if (table.total === 0) return NaN;
  const hits = table.counts.reduce((sum, row) => sum + Math.max(0, ...row), 0);
  return hits / table.total;
}

function entropy(marginal: number[], total: number): number {
  let h = 0;
  for (const n of marginal) if (n > 0) h -= (n / total) * Math.log(n / total);
  return h;
}

/**
 * Normalized mutual information with the arithmetic-mean normalization (as scikit-learn's
 * default): NMI = I(K; C) / ((H(K) + H(C)) / 2), in nats. 1 when k determines the class and
 * vice versa, 0 when they are independent. When both entropies are 0 (one component, one
 * class) the two partitions are identical and NMI is 1.
 */
export function nmi(table: Contingency): number {
  const { counts, total } = table;
  if (total === 0) return NaN;
  const rows = usage(table);
  const cols = counts[0].map((_, c) => counts.reduce((sum, row) => sum + row[c], 0));
  // I(K;C) = Σ_kc p(k,c) log( p(k,c) / (p(k) p(c)) )
  let mutual = 0;
  for (let k = 0; k < counts.length; k++) {
    for (let c = 0; c < cols.length; c++) {
      const n = counts[k][c];
      if (n > 0) mutual += (n / total) * Math.log((n * total) / (rows[k] * cols[c]));
    }
  }
  const hk = entropy(rows, total);
  const hc = entropy(cols, total);
  if (hk === 0 && hc === 0) return 1;
  return Math.max(0, mutual) / ((hk + hc) / 2);
}
