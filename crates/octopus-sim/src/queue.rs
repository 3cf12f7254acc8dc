//! The event queue: pending events ordered by (time, sequence number), so that events at the same
//! time come out in the order they were scheduled.
//!
//! The heap holds only the 24-byte ordering key and a slot; the payloads wait in a slab reused
//! through a free list, so sifting moves small entries and the steady state allocates nothing.

use std::cmp::Reverse;

use dary_heap::QuaternaryHeap;

use crate::Cycle;

/// A min-queue of `T` by time, first in first out among equal times.
#[derive(Debug)]
pub(crate) struct EventQueue<T> {
    seq: u64,
    heap: QuaternaryHeap<Reverse<(Cycle, u64, u32)>>,
    slab: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> EventQueue<T> {
    pub(crate) fn new() -> EventQueue<T> {
        EventQueue { seq: 0, heap: QuaternaryHeap::with_capacity(1024), slab: Vec::new(), free: Vec::new() }
    }

    /// Schedules `ev` at `time`.
    pub(crate) fn push(&mut self, time: Cycle, ev: T) {
        self.seq += 1;
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
        self.heap.push(Reverse((time, self.seq, slot)));
    }

    /// The earliest event (the first scheduled among the earliest) and its time.
    pub(crate) fn pop(&mut self) -> Option<(Cycle, T)> {
        let Reverse((time, _, slot)) = self.heap.pop()?;
        self.free.push(slot);
        let ev = self.slab[slot as usize].take().expect("a pending event's slot is full");
        Some((time, ev))
    }

    /// Events pending.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::EventQueue;

    proptest! {
        /// Interleaved pushes and pops come out as a stable sort by time would give them: earliest
        /// first, in push order among equal times; slots are reused without mixing payloads. Gaps
        /// small and large.
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
