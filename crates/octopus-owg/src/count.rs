//! Bounded random counts: the iterations of a `loop` and the width of a `map`, kept as an exact
//! probability for every value up to the bound, so the analysis never samples.
//!
//! Re-exported from [`crate::ir`], where `Control::Map` and `Control::Loop` hold one.

use serde::{Deserialize, Serialize};

use crate::dist::Dist;

/// A bounded random count (loop iterations, map width): an exact probability for each value
/// `0..=max`, so analysis never samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoundedCount {
    /// What the user wrote.
    pub dist: CountDist,
    /// The bound: draws above it are clamped to it.
    pub max: u64,
    /// `pmf[i]` is the probability of the value `i`; sums to 1 and has `max + 1` entries.
    pub pmf: Vec<f64>,
}

/// How a [`BoundedCount`] was written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountDist {
    /// `count = DIST` or `width = DIST`: draws rounded to the nearest whole number, clamped to `0..=max`.
    Dist(Dist),
    /// `continue = P`: at least one iteration, and each further one with probability `P`.
    Continue(f64),
}

impl BoundedCount {
    /// Builds the exact distribution of a bounded count.
    pub fn new(dist: CountDist, max: u64) -> BoundedCount {
        let n = max as usize + 1;
        let mut pmf = vec![0.0; n];
        match &dist {
            CountDist::Continue(p) => {
                // 1 + Geometric(p) extra iterations, the tail folded onto `max`.
                let mut mass = 1.0;
                for (i, slot) in pmf.iter_mut().enumerate().skip(1) {
                    if i == n - 1 {
                        *slot = mass;
                    } else {
                        *slot = mass * (1.0 - p);
                        mass *= p;
                    }
                }
                if n == 1 {
                    pmf[0] = 1.0;
                }
            }
            // Discrete distributions: a histogram, linear in values plus bound (the CDF route
            // would cost values times bound).
            CountDist::Dist(Dist::Choice(items)) => {
                for (v, w) in items {
                    pmf[(v.round().max(0.0) as usize).min(n - 1)] += w;
                }
            }
            CountDist::Dist(Dist::Empirical { values, .. }) => {
                for v in values {
                    pmf[(v.round().max(0.0) as usize).min(n - 1)] += 1.0;
                }
            }
            CountDist::Dist(d) => {
                let mut prev = 0.0;
                for (i, slot) in pmf.iter_mut().enumerate() {
                    let upper = if i == n - 1 { 1.0 } else { d.cdf_rounded(i as f64) };
                    *slot = (upper - prev).max(0.0);
                    prev = upper.max(prev);
                }
            }
        }
        let total: f64 = pmf.iter().sum();
        if total > 0.0 {
            pmf.iter_mut().for_each(|p| *p /= total);
        }
        BoundedCount { dist, max, pmf }
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        self.pmf.iter().enumerate().map(|(i, p)| i as f64 * p).sum()
    }

    /// The variance.
    pub fn variance(&self) -> f64 {
        let m = self.mean();
        self.pmf.iter().enumerate().map(|(i, p)| (i as f64 - m).powi(2) * p).sum()
    }

    /// The largest value with a non-zero probability.
    pub fn upper(&self) -> u64 {
        self.pmf.iter().rposition(|&p| p > 0.0).unwrap_or(0) as u64
    }

    /// Draws a value by inverting the exact distribution.
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        let u: f64 = rng.random();
        let mut acc = 0.0;
        for (i, p) in self.pmf.iter().enumerate() {
            acc += p;
            if u < acc {
                return i as u64;
            }
        }
        self.upper()
    }
}
