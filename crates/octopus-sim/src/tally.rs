//! A sample of non-negative values whose memory stops growing: exact up to [`EXACT_QUANTILE_SAMPLES`]
//! values, then a histogram of logarithmic bins (DDSketch: Masson, Rim and Lee, "DDSketch: a fast
//! and fully-mergeable quantile sketch with relative-error guarantees", VLDB 2019).
//!
//! Below the threshold a quantile is the nearest-rank value of the sorted sample and the mean is
//! the sum of the sorted values over their count, as they always were: every run of up to
//! [`EXACT_QUANTILE_SAMPLES`] requests reports exact figures. Past it, the values move into bins
//! `(γ^(i-1), γ^i]` with `γ = 1 + 2^-9`, a quantile is its bin's representative `2γ^i / (γ + 1)`
//! (within [`QUANTILE_RELATIVE_ERROR`] of the exact nearest-rank value) and the mean is the running sum in
//! arrival order over the count. A run's values span at most a few thousand bins (nine decades of
//! cycles take about 10,600), so a stream of a million requests holds what one of 100,000 holds.

use std::collections::BTreeMap;

/// Values kept exactly before the sample turns into a histogram (ours: 1 MiB of `f64` per sample;
/// every table of `docs/evaluation.md` stays far below it, so they are exact).
pub const EXACT_QUANTILE_SAMPLES: usize = 1 << 17;

/// Bin ratio `γ = 1 + 2^-9`.
const GAMMA: f64 = 1.0 + 1.0 / 512.0;

/// The largest relative error of a quantile past [`EXACT_QUANTILE_SAMPLES`], `(γ - 1) / (γ + 1)`, about 0.1 %.
pub const QUANTILE_RELATIVE_ERROR: f64 = (GAMMA - 1.0) / (GAMMA + 1.0);

/// One sample (see the module's documentation).
#[derive(Clone, Debug)]
pub(crate) enum Tally {
    /// Every value, while there are at most [`EXACT_QUANTILE_SAMPLES`].
    Exact(Vec<f64>),
    /// Past it, their histogram.
    Binned(Bins),
}

/// The histogram of a binned sample.
#[derive(Clone, Debug, Default)]
pub(crate) struct Bins {
    /// Bin index to count.
    counts: BTreeMap<i32, u64>,
    /// Values equal to zero (they have no logarithm).
    zeros: u64,
    /// Values, and their sum in arrival order.
    n: u64,
    sum: f64,
}

impl Default for Tally {
    fn default() -> Self {
        Tally::Exact(Vec::new())
    }
}

impl Bins {
    fn add(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        if x <= 0.0 {
            self.zeros += 1;
        } else {
            *self.counts.entry(bin_of(x)).or_insert(0) += 1;
        }
    }

    fn merge(&mut self, other: &Bins) {
        self.n += other.n;
        self.sum += other.sum;
        self.zeros += other.zeros;
        for (&i, &c) in &other.counts {
            *self.counts.entry(i).or_insert(0) += c;
        }
    }
}

impl Tally {
    pub(crate) fn push(&mut self, x: f64) {
        debug_assert!(x >= 0.0 && x.is_finite(), "a tally holds finite non-negative values, not {x}");
        match self {
            Tally::Exact(v) => {
                v.push(x);
                if v.len() > EXACT_QUANTILE_SAMPLES {
                    self.bins();
                }
            }
            Tally::Binned(b) => b.add(x),
        }
    }

    /// Its histogram, binning the exact values first if it has not yet.
    fn bins(&mut self) -> &mut Bins {
        if let Tally::Exact(v) = self {
            let mut b = Bins::default();
            v.iter().for_each(|&x| b.add(x));
            *self = Tally::Binned(b);
        }
        match self {
            Tally::Binned(b) => b,
            Tally::Exact(_) => unreachable!("binned above"),
        }
    }

    /// Adds every value of `other`.
    pub(crate) fn extend(&mut self, other: &Tally) {
        match other {
            Tally::Exact(v) => v.iter().for_each(|&x| self.push(x)),
            Tally::Binned(o) => self.bins().merge(o),
        }
    }

    pub(crate) fn len(&self) -> u64 {
        match self {
            Tally::Exact(v) => v.len() as u64,
            Tally::Binned(b) => b.n,
        }
    }

    /// Whether its quantiles are its bins' (past [`EXACT_QUANTILE_SAMPLES`]) rather than exact.
    pub(crate) fn is_binned(&self) -> bool {
        matches!(self, Tally::Binned(_))
    }

    /// The sample's summary, ready for nearest-rank quantiles; `None` when it is empty.
    pub(crate) fn summary(&self) -> Option<Summary> {
        match self {
            Tally::Exact(v) if v.is_empty() => None,
            Tally::Exact(v) => {
                let mut v = v.clone();
                v.sort_unstable_by(f64::total_cmp);
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                Some(Summary { inner: Inner::Exact(v), mean })
            }
            Tally::Binned(b) => {
                let bins = b.counts.iter().map(|(&i, &c)| (representative(i), c)).collect();
                Some(Summary {
                    inner: Inner::Binned { zeros: b.zeros, bins, n: b.n },
                    mean: b.sum / b.n as f64,
                })
            }
        }
    }
}

/// A sorted sample or its histogram.
pub(crate) struct Summary {
    inner: Inner,
    /// The mean of the values.
    pub mean: f64,
}

enum Inner {
    Exact(Vec<f64>),
    /// Zeros, then (representative, count) in increasing order.
    Binned {
        zeros: u64,
        bins: Vec<(f64, u64)>,
        n: u64,
    },
}

impl Summary {
    /// The nearest-rank `p`-quantile: the value of rank `ceil(p n)` (at least 1) in increasing order.
    pub(crate) fn rank(&self, p: f64) -> f64 {
        match &self.inner {
            Inner::Exact(v) => {
                let n = v.len();
                v[((p * n as f64).ceil() as usize).clamp(1, n) - 1]
            }
            Inner::Binned { zeros, bins, n } => {
                let rank = ((p * *n as f64).ceil() as u64).clamp(1, *n);
                if rank <= *zeros {
                    return 0.0;
                }
                let mut seen = *zeros;
                for &(value, count) in bins {
                    seen += count;
                    if seen >= rank {
                        return value;
                    }
                }
                unreachable!("rank {rank} beyond the {n} values")
            }
        }
    }
}

/// The bin of a positive value: the `i` with `γ^(i-1) < x <= γ^i`.
fn bin_of(x: f64) -> i32 {
    (x.ln() / GAMMA.ln()).ceil() as i32
}

/// The value reported for bin `i`: within [`QUANTILE_RELATIVE_ERROR`] of every value in it.
fn representative(i: i32) -> f64 {
    2.0 * GAMMA.powi(i) / (GAMMA + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact_rank(v: &mut [f64], p: f64) -> f64 {
        v.sort_unstable_by(f64::total_cmp);
        let n = v.len();
        v[((p * n as f64).ceil() as usize).clamp(1, n) - 1]
    }

    #[test]
    fn below_the_threshold_quantiles_are_exact_nearest_ranks() {
        let mut t = Tally::default();
        for x in [5.0, 1.0, 4.0, 2.0, 3.0] {
            t.push(x);
        }
        let s = t.summary().unwrap();
        assert_eq!((s.rank(0.0), s.rank(0.5), s.rank(0.99), s.rank(1.0)), (1.0, 3.0, 5.0, 5.0));
        assert_eq!(s.mean, 3.0);
        assert!(Tally::default().summary().is_none());
    }

    #[test]
    fn past_the_threshold_quantiles_are_within_the_relative_error() {
        // A deterministic heavy-tailed sample over six decades, with zeros.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut values = Vec::new();
        for k in 0..(EXACT_QUANTILE_SAMPLES + 50_000) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            values.push(if k % 1000 == 0 { 0.0 } else { 10f64.powf(6.0 * u) });
        }
        let mut t = Tally::default();
        values.iter().for_each(|&v| t.push(v));
        assert!(t.is_binned());
        assert_eq!(t.len(), values.len() as u64);
        let s = t.summary().unwrap();
        for p in [0.0005, 0.001, 0.01, 0.5, 0.9, 0.99, 0.999, 1.0] {
            let exact = exact_rank(&mut values, p);
            let got = s.rank(p);
            let err = if exact == 0.0 { got } else { (got - exact).abs() / exact };
            assert!(err <= QUANTILE_RELATIVE_ERROR * (1.0 + 1e-9), "p{p}: {got} against {exact}");
        }
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert!((s.mean - mean).abs() / mean < 1e-9);
    }

    #[test]
    fn extending_matches_pushing_the_same_values() {
        // Exact into exact (crossing the threshold on the way), and binned into exact.
        let (mut a, mut b, mut all) = (Tally::default(), Tally::default(), Tally::default());
        for k in 0..(2 * EXACT_QUANTILE_SAMPLES) {
            let x = (k % 977) as f64 + 0.5;
            if k % 3 == 0 {
                a.push(x)
            } else {
                b.push(x)
            }
            all.push(x);
        }
        assert!(!a.is_binned() && b.is_binned());
        for (first, second) in [(&a, &b), (&b, &a)] {
            let mut merged = Tally::default();
            merged.extend(first);
            merged.extend(second);
            assert!(merged.is_binned());
            assert_eq!(merged.len(), all.len());
            let (m, w) = (merged.summary().unwrap(), all.summary().unwrap());
            for p in [0.001, 0.01, 0.5, 0.99, 1.0] {
                assert_eq!(m.rank(p), w.rank(p), "p{p}");
            }
            assert!((m.mean - w.mean).abs() <= 1e-9 * w.mean);
        }
    }
}
