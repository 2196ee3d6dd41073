//! The engine's cache of open dossiers: their state, parties, chain tip and code text.
//!
//! States live in a slab and the map holds their slot, so a command finds its dossier with one
//! hash lookup and carries the slot from deciding to committing (no second lookup), and a
//! growing cache moves four-byte slots, not states.

use motcua_core::{Dossier, DossierCode};
use rustc_hash::FxHashMap;

use crate::store::{Hash, GENESIS};
use motcua_core::Parties;

/// One cached dossier.
#[derive(Clone, Debug)]
pub(crate) struct Hot {
    pub state: Dossier,
    pub parties: Parties,
    pub last_hash: Hash,
    /// The code as text, formatted once (every event's hash covers it).
    pub text: Box<str>,
    /// The append this dossier has in the write being gathered: (write number, position).
    pub batch_stream: Option<(u64, usize)>,
    /// Where the store said it keeps the dossier ([`StreamAppend::hint`]).
    ///
    /// [`StreamAppend::hint`]: crate::StreamAppend::hint
    pub store_hint: Option<u64>,
}

impl Hot {
    pub fn new(code: &DossierCode, parties: Parties) -> Hot {
        Hot {
            state: Dossier::new(),
            parties,
            last_hash: GENESIS,
            text: code.to_string().into_boxed_str(),
            batch_stream: None,
            store_hint: None,
        }
    }

    /// What a freed slot holds (nothing allocated).
    fn vacant() -> Hot {
        Hot {
            state: Dossier::new(),
            parties: Parties::default(),
            last_hash: GENESIS,
            text: Box::default(),
            batch_stream: None,
            store_hint: None,
        }
    }
}

/// A slot in the cache: valid from the lookup or insert that gave it until the dossier is
/// removed.
pub(crate) type Slot = u32;

#[derive(Default)]
pub(crate) struct HotCache {
    index: FxHashMap<DossierCode, Slot>,
    slots: Vec<Hot>,
    free: Vec<Slot>,
}

impl HotCache {
    pub fn slot(&self, code: &DossierCode) -> Option<Slot> {
        self.index.get(code).copied()
    }

    pub fn get(&self, code: &DossierCode) -> Option<&Hot> {
        self.slot(code).and_then(|s| self.at(s))
    }

    pub fn at(&self, slot: Slot) -> Option<&Hot> {
        self.slots.get(slot as usize)
    }

    pub fn at_mut(&mut self, slot: Slot) -> Option<&mut Hot> {
        self.slots.get_mut(slot as usize)
    }

    /// Caches `hot` as `code` (which must not be cached) and gives its slot.
    pub fn insert(&mut self, code: &DossierCode, hot: Hot) -> Slot {
        let slot = match self.free.pop() {
            Some(s) => {
                if let Some(place) = self.slots.get_mut(s as usize) {
                    *place = hot;
                }
                s
            }
            None => {
                self.slots.push(hot);
                // More open dossiers than slots would exhaust memory long before.
                (self.slots.len() - 1) as Slot
            }
        };
        self.index.insert(code.clone(), slot);
        slot
    }

    pub fn remove(&mut self, code: &DossierCode) {
        if let Some(slot) = self.index.remove(code) {
            if let Some(place) = self.slots.get_mut(slot as usize) {
                *place = Hot::vacant();
                self.free.push(slot);
            }
        }
    }

    pub fn clear(&mut self) {
        self.index.clear();
        self.slots.clear();
        self.free.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused_after_removal_and_never_shared() {
        let code = |n: u64| DossierCode::new("H42.12".parse().unwrap(), chrono::NaiveDate::MIN, n);
        let mut cache = HotCache::default();
        let a = cache.insert(&code(1), Hot::new(&code(1), Parties::default()));
        let b = cache.insert(&code(2), Hot::new(&code(2), Parties::default()));
        assert_ne!(a, b);
        cache.remove(&code(1));
        assert!(cache.get(&code(1)).is_none());
        assert_eq!(cache.at(a).map(|h| h.text.len()), Some(0), "a freed slot holds nothing");
        let c = cache.insert(&code(3), Hot::new(&code(3), Parties::default()));
        assert_eq!(c, a, "the freed slot is reused");
        assert_eq!(cache.get(&code(3)).map(|h| &*h.text), Some(&*code(3).to_string()));
        assert_eq!(cache.get(&code(2)).map(|h| &*h.text), Some(&*code(2).to_string()));
        cache.remove(&code(9));
        cache.clear();
        assert!(cache.slot(&code(2)).is_none());
    }
}
