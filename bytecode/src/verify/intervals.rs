//! Sets of small integers as sorted, disjoint, half-open intervals: the definite-
//! assignment state of rule F8. Compiled code defines registers roughly in order, so a
//! state is a handful of intervals however many registers are live, where a bit set
//! would take blocks x registers.

/// A set of `u32`s as sorted, disjoint, non-adjacent `[start, end)` intervals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntervalSet(Vec<(u32, u32)>);

impl IntervalSet {
    /// Intervals held (the set's size in memory, in 8-byte units).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn contains(&self, x: u32) -> bool {
        let i = self.0.partition_point(|&(_, end)| end <= x);
        self.0.get(i).is_some_and(|&(start, _)| start <= x)
    }

    /// Whether every element of `[start, end)` is in the set (true when it is empty).
    pub fn contains_range(&self, start: u32, end: u32) -> bool {
        if start >= end {
            return true;
        }
        let i = self.0.partition_point(|&(_, e)| e <= start);
        self.0.get(i).is_some_and(|&(s, e)| s <= start && end <= e)
    }

    pub fn insert(&mut self, x: u32) {
        let i = self.0.partition_point(|&(_, end)| end < x);
        // Interval `i` is the first that ends at or after `x`: it may contain `x`, touch it
        // from the left (end == x), or start just after it.
        match self.0.get(i).copied() {
            Some((start, end)) if start <= x && x < end => {}
            Some((start, end)) if end == x => {
                self.0[i] = (start, x + 1);
                if let Some(&(next_start, next_end)) = self.0.get(i + 1) {
                    if next_start == x + 1 {
                        self.0[i] = (start, next_end);
                        self.0.remove(i + 1);
                    }
                }
            }
            Some((start, end)) if start == x + 1 => self.0[i] = (x, end),
            _ => self.0.insert(i, (x, x + 1)),
        }
    }

    /// Removes every element at or above `from`.
    pub fn clear_from(&mut self, from: u32) {
        let i = self.0.partition_point(|&(_, end)| end <= from);
        self.0.truncate(i + 1);
        if let Some(last) = self.0.get_mut(i) {
            if last.0 >= from {
                self.0.truncate(i);
            } else {
                last.1 = last.1.min(from);
            }
        }
    }

    /// `self ∩ other`.
    pub fn intersection(&self, other: &IntervalSet) -> IntervalSet {
        let (a, b) = (&self.0, &other.0);
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < a.len() && j < b.len() {
            let start = a[i].0.max(b[j].0);
            let end = a[i].1.min(b[j].1);
            if start < end {
                out.push((start, end));
            }
            if a[i].1 < b[j].1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        IntervalSet(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(xs: &[u32]) -> IntervalSet {
        let mut s = IntervalSet::default();
        for &x in xs {
            s.insert(x);
        }
        s
    }

    #[test]
    fn operations_agree_with_a_plain_set() {
        // A small exhaustive-ish check against `std`'s BTreeSet.
        let mut seed = 12345u64;
        for _ in 0..500 {
            let mut xs = Vec::new();
            let mut ys = Vec::new();
            for _ in 0..20 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                xs.push((seed >> 33) as u32 % 40);
                ys.push((seed >> 45) as u32 % 40);
            }
            let (a, b) = (set(&xs), set(&ys));
            let sa: std::collections::BTreeSet<u32> = xs.iter().copied().collect();
            let sb: std::collections::BTreeSet<u32> = ys.iter().copied().collect();
            for x in 0..45 {
                for y in x..46 {
                    assert_eq!(a.contains_range(x, y), (x..y).all(|z| sa.contains(&z)));
                }
                assert_eq!(a.contains(x), sa.contains(&x));
                assert_eq!(a.intersection(&b).contains(x), sa.contains(&x) && sb.contains(&x));
            }
            // Intervals never touch or overlap.
            assert!(a.0.windows(2).all(|w| w[0].1 < w[1].0) && a.0.iter().all(|&(s, e)| s < e));
            let cut = (seed % 45) as u32;
            let mut c = a.clone();
            c.clear_from(cut);
            for x in 0..45 {
                assert_eq!(c.contains(x), sa.contains(&x) && x < cut);
            }
        }
    }
}
