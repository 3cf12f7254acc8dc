//! The dependency graph of an instance: topological order, cycle finding, transitive reduction
//! and the longest path.
//!
//! Nodes are task indices `0..n`. Transitive reduction uses reachability bitsets in reverse
//! topological order: O(n * e / 64) words of work, a few milliseconds for the 1001-task instances.

/// A directed graph over `0..n` with deduplicated edges.
#[derive(Clone, Debug)]
pub(crate) struct Graph {
    /// Successors of each node, sorted, without duplicates.
    pub succ: Vec<Vec<u32>>,
}

impl Graph {
    /// A graph from an edge list (duplicates are merged).
    pub fn new(n: usize, edges: impl IntoIterator<Item = (u32, u32)>) -> Graph {
        let mut succ = vec![Vec::new(); n];
        for (a, b) in edges {
            succ[a as usize].push(b);
        }
        for s in &mut succ {
            s.sort_unstable();
            s.dedup();
        }
        Graph { succ }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.succ.len()
    }

    /// Number of edges.
    #[cfg(test)]
    pub fn edge_count(&self) -> usize {
        self.succ.iter().map(Vec::len).sum()
    }

    /// A topological order (Kahn's algorithm, smallest index first among ready nodes, so the
    /// order follows the file where the graph allows), or a cycle as a list of nodes in order.
    pub fn toposort(&self) -> Result<Vec<u32>, Vec<u32>> {
        let n = self.len();
        let mut indegree = vec![0usize; n];
        for s in &self.succ {
            for &b in s {
                indegree[b as usize] += 1;
            }
        }
        let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<u32>> =
            (0..n as u32).filter(|&v| indegree[v as usize] == 0).map(std::cmp::Reverse).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(std::cmp::Reverse(v)) = ready.pop() {
            order.push(v);
            for &b in &self.succ[v as usize] {
                indegree[b as usize] -= 1;
                if indegree[b as usize] == 0 {
                    ready.push(std::cmp::Reverse(b));
                }
            }
        }
        if order.len() == n { Ok(order) } else { Err(self.find_cycle(&indegree)) }
    }

    /// A cycle among the nodes Kahn's algorithm could not order (those with `indegree > 0`):
    /// every such node has a predecessor that is also left over, so walking predecessors
    /// backwards must revisit a node, and the walk from that node on is a cycle.
    fn find_cycle(&self, indegree: &[usize]) -> Vec<u32> {
        let n = self.len();
        let mut pred_left = vec![u32::MAX; n];
        for (a, s) in self.succ.iter().enumerate() {
            if indegree[a] == 0 {
                continue;
            }
            for &b in s {
                if indegree[b as usize] > 0 && pred_left[b as usize] == u32::MAX {
                    pred_left[b as usize] = a as u32;
                }
            }
        }
        let start = (0..n).find(|&v| indegree[v] > 0).expect("a failed toposort leaves a node") as u32;
        let mut seen_at = vec![usize::MAX; n];
        let mut walk = Vec::new();
        let mut v = start;
        while seen_at[v as usize] == usize::MAX {
            seen_at[v as usize] = walk.len();
            walk.push(v);
            v = pred_left[v as usize];
            assert!(v != u32::MAX, "a node left by Kahn's algorithm has a left-over predecessor");
        }
        let mut cycle = walk.split_off(seen_at[v as usize]);
        // The walk went backwards along edges; the cycle reads forwards.
        cycle.reverse();
        // Start at the smallest node, for stable messages.
        let min = cycle.iter().enumerate().min_by_key(|&(_, &v)| v).map_or(0, |(i, _)| i);
        cycle.rotate_left(min);
        cycle
    }

    /// The transitive reduction of this DAG, given a topological order: the edges `a -> b` with no
    /// other path from `a` to `b`. Returns the kept graph.
    pub fn transitive_reduction(&self, order: &[u32]) -> Graph {
        let n = self.len();
        let words = n.div_ceil(64);
        let mut rank = vec![0u32; n];
        for (i, &v) in order.iter().enumerate() {
            rank[v as usize] = i as u32;
        }
        // reach[v]: the nodes reachable from v by a path of one or more edges.
        let mut reach = vec![0u64; n * words];
        let mut kept = vec![Vec::new(); n];
        let mut covered = vec![0u64; words];
        let mut children: Vec<u32> = Vec::new();
        for &v in order.iter().rev() {
            let v = v as usize;
            children.clear();
            children.extend_from_slice(&self.succ[v]);
            // Nearest first: a child reachable through another child is later in the order.
            children.sort_unstable_by_key(|&c| rank[c as usize]);
            covered.iter_mut().for_each(|w| *w = 0);
            for &c in &children {
                let c = c as usize;
                if covered[c / 64] & (1 << (c % 64)) != 0 {
                    continue;
                }
                kept[v].push(c as u32);
                covered[c / 64] |= 1 << (c % 64);
                let (lo, hi) = (c * words, (c + 1) * words);
                for (w, r) in covered.iter_mut().zip(&reach[lo..hi]) {
                    *w |= r;
                }
            }
            reach[v * words..(v + 1) * words].copy_from_slice(&covered);
        }
        for k in &mut kept {
            k.sort_unstable();
        }
        Graph { succ: kept }
    }

    /// The longest path, weighting each node by `weight`: the critical path of the workflow.
    pub fn longest_path(&self, order: &[u32], weight: &[f64]) -> f64 {
        let mut finish = vec![0.0f64; self.len()];
        let mut start = vec![0.0f64; self.len()];
        let mut best = 0.0f64;
        for &v in order {
            let v = v as usize;
            finish[v] = start[v] + weight[v];
            best = best.max(finish[v]);
            for &c in &self.succ[v] {
                let c = c as usize;
                start[c] = start[c].max(finish[v]);
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduction_drops_exactly_the_shortcuts() {
        // 0 -> 1 -> 2 -> 3, with shortcuts 0 -> 2, 0 -> 3, 1 -> 3, and a side branch 0 -> 4 -> 3.
        let g = Graph::new(5, [(0, 1), (1, 2), (2, 3), (0, 2), (0, 3), (1, 3), (0, 4), (4, 3), (0, 1)]);
        assert_eq!(g.edge_count(), 8, "the duplicate 0 -> 1 is merged");
        let order = g.toposort().unwrap();
        let r = g.transitive_reduction(&order);
        assert_eq!(r.succ, vec![vec![1, 4], vec![2], vec![3], vec![], vec![3]]);
        assert_eq!(r.longest_path(&order, &[1.0, 2.0, 3.0, 4.0, 100.0]), 105.0);
        assert_eq!(g.longest_path(&order, &[1.0, 2.0, 3.0, 4.0, 100.0]), 105.0);
    }

    #[test]
    fn reduction_works_across_word_boundaries() {
        // A chain of 200 with every shortcut i -> i + 2 and i -> i + 65.
        let n = 200u32;
        let edges = (0..n - 1)
            .map(|i| (i, i + 1))
            .chain((0..n - 2).map(|i| (i, i + 2)))
            .chain((0..n - 65).map(|i| (i, i + 65)));
        let g = Graph::new(n as usize, edges);
        let order = g.toposort().unwrap();
        let r = g.transitive_reduction(&order);
        assert_eq!(r.edge_count(), n as usize - 1);
    }

    #[test]
    fn toposort_follows_file_order_where_free() {
        let g = Graph::new(4, [(3, 0), (2, 1)]);
        assert_eq!(g.toposort().unwrap(), vec![2, 1, 3, 0]);
    }

    #[test]
    fn cycles_are_found_and_read_forwards() {
        // 0 -> 1 -> 2 -> 3 -> 1, plus 4 hanging off the cycle.
        let g = Graph::new(5, [(0, 1), (1, 2), (2, 3), (3, 1), (3, 4)]);
        assert_eq!(g.toposort().unwrap_err(), vec![1, 2, 3]);
        let g = Graph::new(2, [(1, 1), (0, 1)]);
        assert_eq!(g.toposort().unwrap_err(), vec![1]);
    }
}
