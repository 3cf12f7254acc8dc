//! The event queue: pending events ordered by time, first in first out among events at the same
//! time.
//!
//! A radix heap (Ahuja, Mehlhorn, Orlin and Tarjan 1990): simulated time never goes back, so every
//! pending time is at least `last`, the time of the latest event taken. An event waits in the
//! bucket of the highest bit in which its time differs from `last` (bucket 0: equal to `last`).
//! When bucket 0 runs out, the lowest non-empty bucket's smallest time becomes `last` and that
//! bucket's events move down to lower buckets; each event moves at most 64 times, and in practice
//! a few. Pushing is an append. Events of equal times always share a bucket and move in order,
//! so they come out in the order they were pushed with no sequence number.
//!
//! Buckets hold only (time, slot); the payloads wait in a slab reused through a free list, so
//! the steady state allocates nothing.

use crate::Cycle;

/// Buckets: one for "at `last`" and one per bit of a [`Cycle`].
const BUCKETS: usize = Cycle::BITS as usize + 1;

/// A min-queue of `T` by time, first in first out among equal times. Times pushed must not be
/// earlier than the last one popped.
#[derive(Debug)]
pub(crate) struct EventQueue<T> {
    last: Cycle,
    len: usize,
    buckets: [Vec<(Cycle, u32)>; BUCKETS],
    /// Bit `i` set while `buckets[i]` holds events (bucket 0: from `front` on).
    nonempty: u128,
    /// The next event of bucket 0 to take.
    front: usize,
    slab: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> EventQueue<T> {
    pub(crate) fn new() -> EventQueue<T> {
        EventQueue {
            last: 0,
            len: 0,
            buckets: std::array::from_fn(|_| Vec::new()),
            nonempty: 0,
            front: 0,
            slab: Vec::new(),
            free: Vec::new(),
        }
    }

    /// The bucket of an event at `time`.
    fn bucket(&self, time: Cycle) -> usize {
        (Cycle::BITS - (time ^ self.last).leading_zeros()) as usize
    }

    /// Schedules `ev` at `time` (not before the last event popped).
    pub(crate) fn push(&mut self, time: Cycle, ev: T) {
        assert!(time >= self.last, "an event scheduled in the past ({time} < {})", self.last);
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(ev);
                s
            }
            None => {
                self.slab.push(Some(ev));
                u32::try_from(self.slab.len() - 1).expect("fewer than 2^32 pending events")
            }
        };
        let b = self.bucket(time);
        self.buckets[b].push((time, slot));
        self.nonempty |= 1 << b;
        self.len += 1;
    }

    /// The earliest event (the first scheduled among the earliest) and its time.
    pub(crate) fn pop(&mut self) -> Option<(Cycle, T)> {
        if self.front == self.buckets[0].len() {
            self.buckets[0].clear();
            self.front = 0;
            self.nonempty &= !1;
            if self.nonempty == 0 {
                return None;
            }
            // The lowest non-empty bucket holds the earliest events; they all move down.
            let b = self.nonempty.trailing_zeros() as usize;
            let mut moving = std::mem::take(&mut self.buckets[b]);
            self.nonempty &= !(1 << b);
            self.last = moving.iter().map(|e| e.0).min().expect("a non-empty bucket");
            for &(time, slot) in &moving {
                let to = self.bucket(time);
                self.buckets[to].push((time, slot));
                self.nonempty |= 1 << to;
            }
            moving.clear();
            self.buckets[b] = moving;
        }
        let (time, slot) = self.buckets[0][self.front];
        self.front += 1;
        self.len -= 1;
        self.free.push(slot);
        let ev = self.slab[slot as usize].take().expect("a pending event's slot is full");
        Some((time, ev))
    }

    /// Whether no event is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::EventQueue;

    proptest! {
        /// Interleaved pushes and pops come out as a stable sort by time would give them: earliest
        /// first, in push order among equal times; slots are reused without mixing payloads. Gaps
        /// small and large, so that events sit in low and high buckets and move down.
        #[test]
        fn pops_in_time_then_push_order(
            ops in proptest::collection::vec((any::<bool>(), prop_oneof![0u64..8, 0u64..1 << 20, 0u64..1 << 56]), 1..200)
        ) {
            let mut q = EventQueue::new();
            let mut model: Vec<(u64, u64, u32)> = Vec::new();
            let (mut now, mut seq, mut id) = (0u64, 0u64, 0u32);
            for (pop, dt) in ops {
                if pop {
                    model.sort();
                    let want = (!model.is_empty()).then(|| model.remove(0));
                    let got = q.pop();
                    prop_assert_eq!(got, want.map(|(t, _, v)| (t, v)));
                    if let Some((t, _)) = got {
                        now = t;
                    }
                } else {
                    // Events are never scheduled in the past.
                    seq += 1;
                    id += 1;
                    q.push(now + dt, id);
                    model.push((now + dt, seq, id));
                }
                prop_assert_eq!(q.is_empty(), model.is_empty());
            }
        }
    }
}
