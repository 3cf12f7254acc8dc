//! The priority queues of [`super::octopus`]: one per (domain, task block), ordered by key (larger
//! first), then older request, then the order tasks were queued.
//!
//! Tasks queued one after another with the same key and request (the shards of one execution, or
//! the copies of a map body) share one heap entry, a *run*, from which they are taken in order. The
//! order is exactly that of one entry per task: nothing else is queued between the tasks of a run,
//! so no other entry could have sorted between them. A sharded execution of `k` shards costs one
//! heap push and one pop instead of `k`.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::bits::Bits;
use crate::scheduler::TaskRef;

/// A queued task as the queues hand it out. Entries of different queues compare in queue order
/// ([`Entry::urgency`]): the tasks of a run share its place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub key: u64,
    pub req: u32,
    seq: u64,
    pub task: TaskRef,
}

impl Entry {
    /// Orders entries as the queues do: larger key first, then older request, then queued earlier.
    pub(crate) fn urgency(&self) -> impl Ord + use<> {
        (self.key, Reverse(self.req), Reverse(self.seq))
    }
}

/// A heap entry: a run of tasks with one key and request.
#[derive(Clone, Copy, Debug)]
struct Head {
    key: u64,
    req: u32,
    seq: u64,
    run: u32,
}

impl PartialEq for Head {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Head {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.key, Reverse(self.req), Reverse(self.seq)).cmp(&(o.key, Reverse(o.req), Reverse(o.seq)))
    }
}

impl Head {
    fn entry(&self, task: TaskRef) -> Entry {
        Entry { key: self.key, req: self.req, seq: self.seq, task }
    }
}

/// The tasks of a run, taken from `next` on.
#[derive(Clone, Debug, Default)]
struct Run {
    tasks: Vec<TaskRef>,
    next: usize,
}

/// The queues; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct Queues {
    heaps: Vec<BinaryHeap<Head>>,
    /// One bit per queue, set while it holds tasks, so a search skips the empty ones by the word.
    nonempty: Bits,
    /// Per queue: its last pushed run, while still queued, with the sequence number after which
    /// it was pushed (it may grow only while no other push came after it).
    tail: Vec<Option<(Head, u64)>>,
    runs: Vec<Run>,
    free: Vec<u32>,
    seq: u64,
}

impl Queues {
    pub(crate) fn new(queues: usize) -> Queues {
        Queues {
            heaps: (0..queues).map(|_| BinaryHeap::new()).collect(),
            tail: vec![None; queues],
            nonempty: Bits::new(queues),
            ..Queues::default()
        }
    }

    /// Queues `task` in queue `q`.
    pub(crate) fn push(&mut self, q: usize, key: u64, req: u32, task: TaskRef) {
        if let Some((h, at)) = self.tail[q]
            && at == self.seq
            && h.key == key
            && h.req == req
        {
            self.runs[h.run as usize].tasks.push(task);
            return;
        }
        self.seq += 1;
        let run = match self.free.pop() {
            Some(r) => r,
            None => {
                self.runs.push(Run::default());
                (self.runs.len() - 1) as u32
            }
        };
        let r = &mut self.runs[run as usize];
        r.tasks.clear();
        r.next = 0;
        r.tasks.push(task);
        let head = Head { key, req, seq: self.seq, run };
        self.heaps[q].push(head);
        self.nonempty.set(q);
        self.tail[q] = Some((head, self.seq));
    }

    /// Calls `f` on each queue in `range` that holds tasks, in increasing order.
    pub(crate) fn nonempty_in(&self, range: std::ops::Range<usize>, mut f: impl FnMut(usize)) {
        self.nonempty.each_in(range, |q| {
            f(q);
            true
        });
    }

    /// The first task of queue `q`.
    pub(crate) fn peek(&self, q: usize) -> Option<Entry> {
        let h = self.heaps[q].peek()?;
        let r = &self.runs[h.run as usize];
        Some(h.entry(r.tasks[r.next]))
    }

    /// Takes the first task of queue `q`.
    pub(crate) fn pop(&mut self, q: usize) -> Option<Entry> {
        let h = *self.heaps[q].peek()?;
        let r = &mut self.runs[h.run as usize];
        let task = r.tasks[r.next];
        r.next += 1;
        if r.next == r.tasks.len() {
            self.heaps[q].pop();
            if self.heaps[q].is_empty() {
                self.nonempty.clear(q);
            }
            self.free.push(h.run);
            if self.tail[q].is_some_and(|(t, _)| t.run == h.run) {
                self.tail[q] = None;
            }
        }
        Some(h.entry(task))
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    use proptest::prelude::*;

    use super::Queues;
    use crate::scheduler::TaskRef;

    /// The reference: one heap entry per task, `(key, older request, queued earlier, task)`.
    type Model = BinaryHeap<(u64, Reverse<u32>, Reverse<u64>, u32)>;

    fn task(i: u32) -> TaskRef {
        TaskRef { index: i, generation: 0 }
    }

    proptest! {
        /// Runs hand tasks out in exactly the order of one heap entry per task (key, then older
        /// request, then queued earlier), across interleaved pushes and pops on several queues,
        /// and the non-empty bits say which queues hold tasks.
        #[test]
        fn runs_keep_the_order_of_one_entry_per_task(
            ops in proptest::collection::vec((0usize..3, any::<bool>(), 0u64..3, 0u32..3), 1..300)
        ) {
            let n = 3;
            let mut q = Queues::new(n);
            let mut model: Vec<Model> = (0..n).map(|_| BinaryHeap::new()).collect();
            let (mut seq, mut id) = (0u64, 0u32);
            for (which, pop, key, req) in ops {
                if pop {
                    let want = model[which].pop().map(|(k, Reverse(r), _, t)| (k, r, t));
                    let got = q.pop(which).map(|e| (e.key, e.req, e.task.index));
                    prop_assert_eq!(got, want);
                } else {
                    seq += 1;
                    id += 1;
                    q.push(which, key, req, task(id));
                    model[which].push((key, Reverse(req), Reverse(seq), id));
                }
                let mut nonempty = Vec::new();
                q.nonempty_in(0..n, |i| nonempty.push(i));
                let want: Vec<usize> = (0..n).filter(|&i| !model[i].is_empty()).collect();
                prop_assert_eq!(nonempty, want);
                for (i, m) in model.iter().enumerate() {
                    prop_assert_eq!(q.peek(i).map(|e| e.task.index), m.peek().map(|x| x.3));
                }
            }
        }
    }

    #[test]
    fn non_empty_bits_span_words() {
        let mut q = Queues::new(200);
        for i in [0, 63, 64, 65, 127, 128, 199] {
            q.push(i, 1, 0, task(i as u32));
        }
        let mut seen = Vec::new();
        q.nonempty_in(60..130, |i| seen.push(i));
        assert_eq!(seen, [63, 64, 65, 127, 128]);
        q.pop(64);
        seen.clear();
        q.nonempty_in(0..200, |i| seen.push(i));
        assert_eq!(seen, [0, 63, 65, 127, 128, 199]);
    }
}
