//! Per-request values of a run, keyed by the request's number (requests are numbered in arrival
//! order), holding only the window from the oldest request still in flight to the newest: what a
//! run holds grows with the requests in flight, not with how many arrived (`docs/performance.md`,
//! "Limits: inputs that would run away").

use std::collections::VecDeque;
use std::ops::{Index, IndexMut};

/// Values of requests `base..base + items.len()`; `None` for one forgotten or never set.
#[derive(Clone, Debug)]
pub(crate) struct RequestMap<T> {
    base: u32,
    items: VecDeque<Option<T>>,
}

impl<T> Default for RequestMap<T> {
    fn default() -> Self {
        RequestMap { base: 0, items: VecDeque::new() }
    }
}

impl<T> RequestMap<T> {
    /// Sets request `r`'s value; a request below the window (forgotten) is ignored.
    pub(crate) fn insert(&mut self, r: u32, value: T) {
        let Some(i) = r.checked_sub(self.base) else { return };
        let i = i as usize;
        if i >= self.items.len() {
            self.items.resize_with(i + 1, || None);
        }
        self.items[i] = Some(value);
    }

    pub(crate) fn get(&self, r: u32) -> Option<&T> {
        let i = r.checked_sub(self.base)? as usize;
        self.items.get(i)?.as_ref()
    }

    pub(crate) fn get_mut(&mut self, r: u32) -> Option<&mut T> {
        let i = r.checked_sub(self.base)? as usize;
        self.items.get_mut(i)?.as_mut()
    }

    /// Forgets request `r`; the window's front moves past every forgotten request.
    pub(crate) fn remove(&mut self, r: u32) -> Option<T> {
        let i = r.checked_sub(self.base)? as usize;
        let value = self.items.get_mut(i)?.take();
        while let Some(None) = self.items.front() {
            self.items.pop_front();
            self.base += 1;
        }
        value
    }

    /// Forgets every request numbered below `r`.
    pub(crate) fn forget_below(&mut self, r: u32) {
        while self.base < r {
            if self.items.pop_front().is_none() {
                self.base = r;
                break;
            }
            self.base += 1;
        }
    }

    /// The lowest request number the window can hold: every request below it was forgotten.
    pub(crate) fn base(&self) -> u32 {
        self.base
    }

    /// Slots held, forgotten ones between live ones included.
    pub(crate) fn held(&self) -> usize {
        self.items.len()
    }
}

impl<T> Index<u32> for RequestMap<T> {
    type Output = T;
    fn index(&self, r: u32) -> &T {
        self.get(r).unwrap_or_else(|| panic!("request {r} is not in flight"))
    }
}

impl<T> IndexMut<u32> for RequestMap<T> {
    fn index_mut(&mut self, r: u32) -> &mut T {
        self.get_mut(r).unwrap_or_else(|| panic!("request {r} is not in flight"))
    }
}

#[cfg(test)]
mod tests {
    use super::RequestMap;

    #[test]
    fn the_window_holds_from_the_oldest_live_request_to_the_newest() {
        let mut m = RequestMap::default();
        for r in 0..5 {
            m.insert(r, r * 10);
        }
        assert_eq!(m.remove(1), Some(10));
        assert_eq!((m.base(), m.held()), (0, 5), "request 0 still holds the front");
        assert_eq!(m.remove(0), Some(0));
        assert_eq!((m.base(), m.held()), (2, 3), "the front moved past 0 and 1");
        assert_eq!((m.get(1), m.get(2), m[3]), (None, Some(&20), 30));
        m.forget_below(4);
        assert_eq!((m.base(), m.held(), m.get(3), m[4]), (4, 1, None, 40));
        m.forget_below(9);
        assert_eq!((m.base(), m.held()), (9, 0));
        m.insert(3, 1);
        assert_eq!(m.get(3), None, "a forgotten request stays forgotten");
        m.insert(11, 110);
        assert_eq!((m.get(10), m[11], m.held()), (None, 110, 3));
    }
}
