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
#[derive(Clone, Debug, Default)]
pub(crate) struct Tally {
    /// Every value while there are at most [`EXACT_QUANTILE_SAMPLES`]; empty once binned.
    exact: Vec<f64>,
    /// Bin index to count, once binned.
    bins: BTreeMap<i32, u64>,
    /// Values equal to zero, once binned (they have no logarithm).
    zeros: u64,
    /// Values, and their sum in arrival order, once binned.
    n: u64,
    sum: f64,
    binned: bool,
}

impl Tally {
    pub(crate) fn push(&mut self, x: f64) {
        debug_assert!(x >= 0.0 && x.is_finite(), "a tally holds finite non-negative values, not {x}");
        if self.binned {
            self.bin(x);
            return;
        }
        self.exact.push(x);
        if self.exact.len() > EXACT_QUANTILE_SAMPLES {
            self.binned = true;
            for v in std::mem::take(&mut self.exact) {
                self.bin(v);
            }
        }
    }

    fn bin(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        if x <= 0.0 {
            self.zeros += 1;
        } else {
            *self.bins.entry(bin_of(x)).or_insert(0) += 1;
        }
    }

    /// Adds every value of `other`.
    pub(crate) fn extend(&mut self, other: &Tally) {
        if other.binned {
            for v in std::mem::take(&mut self.exact) {
                self.bin(v);
            }
            self.binned = true;
            self.n += other.n;
            self.sum += other.sum;
            self.zeros += other.zeros;
            for (&i, &c) in &other.bins {
                *self.bins.entry(i).or_insert(0) += c;
            }
        } else {
            other.exact.iter().for_each(|&v| self.push(v));
        }
    }

    pub(crate) fn len(&self) -> u64 {
        if self.binned { self.n } else { self.exact.len() as u64 }
    }

    /// The sample's summary, ready for nearest-rank quantiles; `None` when it is empty.
    pub(crate) fn summary(&self) -> Option<Summary> {
        if self.len() == 0 {
            return None;
        }
        if self.binned {
            let mean = self.sum / self.n as f64;
            let bins = self.bins.iter().map(|(&i, &c)| (representative(i), c)).collect();
            return Some(Summary { inner: Inner::Binned { zeros: self.zeros, bins, n: self.n }, mean });
        }
        let mut v = self.exact.clone();
        v.sort_unstable_by(f64::total_cmp);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        Some(Summary { inner: Inner::Exact(v), mean })
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
                bins.last().map_or(0.0, |&(v, _)| v)
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
        assert!(t.binned);
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
        let (mut a, mut b, mut all) = (Tally::default(), Tally::default(), Tally::default());
        for k in 0..(EXACT_QUANTILE_SAMPLES + 10) {
            let x = (k % 977) as f64 + 0.5;
            if k % 3 == 0 {
                a.push(x)
            } else {
                b.push(x)
            }
            all.push(x);
        }
        let mut merged = Tally::default();
        merged.extend(&a);
        merged.extend(&b);
        let (m, w) = (merged.summary().unwrap(), all.summary().unwrap());
        for p in [0.01, 0.5, 0.99] {
            assert_eq!(m.rank(p), w.rank(p));
        }
        assert_eq!(merged.len(), all.len());
    }
}
