//! A plain bit set over `u64` words, walked a word at a time: the engine's "TBUs not running"
//! and the Octopus queues' "queues holding tasks" both let a search skip the uninteresting
//! entries 64 at a time.

use std::ops::Range;

/// A fixed-size set of indices.
#[derive(Clone, Debug, Default)]
pub(crate) struct Bits {
    words: Vec<u64>,
}

impl Bits {
    /// `n` indices, all clear.
    pub(crate) fn new(n: usize) -> Bits {
        Bits { words: vec![0; n.div_ceil(64)] }
    }

    /// `n` indices, all set.
    pub(crate) fn full(n: usize) -> Bits {
        let mut words = vec![u64::MAX; n.div_ceil(64)];
        if let Some(last) = words.last_mut()
            && !n.is_multiple_of(64)
        {
            *last = (1 << (n % 64)) - 1;
        }
        Bits { words }
    }

    /// Sets index `i`.
    pub(crate) fn set(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
    }

    /// Clears index `i`.
    pub(crate) fn clear(&mut self, i: usize) {
        self.words[i / 64] &= !(1 << (i % 64));
    }

    /// Whether index `i` is set.
    #[cfg(test)]
    pub(crate) fn get(&self, i: usize) -> bool {
        self.words[i / 64] >> (i % 64) & 1 == 1
    }

    /// The word of indices `64 w .. 64 w + 64`.
    pub(crate) fn word(&self, w: usize) -> u64 {
        self.words[w]
    }

    /// Calls `f` on each set index in `range`, in increasing order, until it returns `false`;
    /// whether it went through them all.
    pub(crate) fn each_in(&self, range: Range<usize>, f: impl FnMut(usize) -> bool) -> bool {
        self.each_in_masked(range, |_| u64::MAX, f)
    }

    /// [`Bits::each_in`] over the indices also set in `mask(w)`, the mask of word `w` (another
    /// set's [`Bits::word`], say).
    pub(crate) fn each_in_masked(
        &self,
        range: Range<usize>,
        mask: impl Fn(usize) -> u64,
        mut f: impl FnMut(usize) -> bool,
    ) -> bool {
        let (start, end) = (range.start, range.end);
        let mut w = start / 64;
        while w * 64 < end {
            let mut bits = self.words[w] & mask(w);
            let lo = (w * 64).max(start) - w * 64;
            let hi = (end - w * 64).min(64);
            bits &= u64::MAX << lo;
            if hi < 64 {
                bits &= (1u64 << hi) - 1;
            }
            while bits != 0 {
                if !f(w * 64 + bits.trailing_zeros() as usize) {
                    return false;
                }
                bits &= bits - 1;
            }
            w += 1;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::Bits;

    #[test]
    fn full_sets_exactly_its_indices() {
        for n in [0, 1, 63, 64, 65, 130] {
            let bits = Bits::full(n);
            let mut seen = Vec::new();
            bits.each_in(0..n.div_ceil(64) * 64, |i| {
                seen.push(i);
                true
            });
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
    }

    proptest! {
        /// `each_in` visits exactly the set indices of the range, in order, across word
        /// boundaries, and stops when asked.
        #[test]
        fn each_in_visits_the_set_indices_of_a_range(
            set in proptest::collection::btree_set(0usize..300, 0..60),
            a in 0usize..300,
            b in 0usize..300,
            stop in 0usize..10,
        ) {
            let mut bits = Bits::new(300);
            for &i in &set {
                bits.set(i);
            }
            for i in 0..300 {
                prop_assert_eq!(bits.get(i), set.contains(&i));
            }
            let (lo, hi) = (a.min(b), a.max(b));
            let want: Vec<usize> = set.range(lo..hi).copied().collect();
            let mut seen = Vec::new();
            let all = bits.each_in(lo..hi, |i| {
                seen.push(i);
                true
            });
            prop_assert!(all);
            prop_assert_eq!(&seen, &want);
            seen.clear();
            let all = bits.each_in(lo..hi, |i| {
                seen.push(i);
                seen.len() <= stop
            });
            prop_assert_eq!(all, want.len() <= stop);
            prop_assert_eq!(&seen[..], &want[..want.len().min(stop + 1)]);
            // Masked by the even indices.
            seen.clear();
            bits.each_in_masked(lo..hi, |_| 0x5555_5555_5555_5555, |i| {
                seen.push(i);
                true
            });
            let even: Vec<usize> = want.iter().copied().filter(|i| i % 2 == 0).collect();
            prop_assert_eq!(&seen, &even);
            if let Some(&first) = want.first() {
                bits.clear(first);
                prop_assert!(!bits.get(first));
            }
        }
    }
}
