//! A queue stored in fixed-size chunks: pushing never moves what is already stored (no
//! doubling reallocation copying, and faulting in, a vector twice the size), and popping from
//! the front frees whole chunks. The memory store keeps its dossiers and its outbox in these.

use std::collections::VecDeque;

/// Items per chunk.
const CHUNK: usize = 4096;

/// Items addressed by absolute position (the count pushed before them, popped ones included).
pub(crate) struct Segmented<T> {
    chunks: VecDeque<Vec<T>>,
    /// Items popped from the first chunk (still stored until the chunk goes).
    head: usize,
    /// Absolute position of the first chunk's first item.
    base: usize,
}

impl<T> Default for Segmented<T> {
    fn default() -> Self {
        Segmented { chunks: VecDeque::new(), head: 0, base: 0 }
    }
}

impl<T> Segmented<T> {
    /// Appends `item` at position [`Segmented::end`].
    pub fn push(&mut self, item: T) {
        match self.chunks.back_mut() {
            Some(last) if last.len() < CHUNK => last.push(item),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(item);
                self.chunks.push_back(chunk);
            }
        }
    }

    /// Position of the first item not popped.
    pub fn start(&self) -> usize {
        self.base + self.head
    }

    /// Position the next push takes.
    pub fn end(&self) -> usize {
        self.base + self.chunks.len().saturating_sub(1) * CHUNK + self.chunks.back().map_or(0, Vec::len)
    }

    /// Items not popped.
    pub fn len(&self) -> usize {
        self.end() - self.start()
    }

    fn locate(&self, pos: usize) -> Option<(usize, usize)> {
        let offset = pos.checked_sub(self.base)?;
        (offset >= self.head).then_some((offset / CHUNK, offset % CHUNK))
    }

    /// The item at `pos`, unless popped or not pushed yet.
    pub fn get(&self, pos: usize) -> Option<&T> {
        let (chunk, i) = self.locate(pos)?;
        self.chunks.get(chunk)?.get(i)
    }

    /// The item at `pos`, mutably.
    pub fn get_mut(&mut self, pos: usize) -> Option<&mut T> {
        let (chunk, i) = self.locate(pos)?;
        self.chunks.get_mut(chunk)?.get_mut(i)
    }

    /// The first item not popped.
    pub fn front(&self) -> Option<&T> {
        self.get(self.start())
    }

    /// Pops the first item (a no-op when empty); its chunk is freed once all of it is popped.
    pub fn pop_front(&mut self) {
        if self.len() == 0 {
            return;
        }
        self.head += 1;
        if self.head == CHUNK {
            self.chunks.pop_front();
            self.base += CHUNK;
            self.head = 0;
        }
    }

    /// The items not popped, in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten().skip(self.head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The chunked queue behaves as a `VecDeque` with absolute positions.
        #[test]
        fn behaves_as_a_deque(ops in proptest::collection::vec(0u8..4, 0..20_000)) {
            let mut seg = Segmented::default();
            let mut model: VecDeque<usize> = VecDeque::new();
            let mut popped = 0;
            for (n, op) in ops.into_iter().enumerate() {
                if op == 0 {
                    seg.pop_front();
                    if model.pop_front().is_some() {
                        popped += 1;
                    }
                } else {
                    seg.push(n);
                    model.push_back(n);
                }
                prop_assert_eq!(seg.start(), popped);
                prop_assert_eq!(seg.len(), model.len());
                prop_assert_eq!(seg.front(), model.front());
                if let Some(p) = popped.checked_sub(1) {
                    prop_assert_eq!(seg.get(p), None);
                }
                prop_assert_eq!(seg.get(seg.end()), None);
            }
            prop_assert!(seg.iter().eq(model.iter()));
            for (k, v) in model.iter().enumerate() {
                prop_assert_eq!(seg.get(popped + k), Some(v));
            }
        }
    }
}
