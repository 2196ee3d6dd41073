//! Events are sealed straight from their values (`lean::compact_from`), not through
//! MessagePack and a walk of it (`lean::compact`, what `verify` and migrations still read):
//! both paths must give every event the same lean bytes, the same canonical bytes and the same
//! dictionary questions in the same order. Checked on every event of a slice of the seed year.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use motcua_catalog::Catalog;
use motcua_engine::store::lean::{compact, compact_from, Lexicon};
use motcua_engine::{MemoryStore, Store};
use motcua_sim::{simulate, SimOptions};

/// A dictionary that interns every text offered, in order, and remembers the questions.
fn encode(
    lex: &mut Lexicon,
    asked: &mut Vec<String>,
    code: &str,
    with: impl FnOnce(&mut dyn FnMut(&str) -> Option<u32>, &mut Vec<u8>, &mut Vec<u8>) -> bool,
) -> (Vec<u8>, Vec<u8>) {
    let (mut lean, mut canon) = (Vec::new(), Vec::new());
    let mut intern = |s: &str| {
        asked.push(s.to_owned());
        if let Some(id) = lex.id(s) {
            return Some(id);
        }
        let id = lex.end();
        lex.insert(id, Arc::from(s));
        Some(id)
    };
    assert!(with(&mut intern, &mut lean, &mut canon), "{code}: encoded");
    (lean, canon)
}

#[test]
fn every_event_of_a_slice_seals_the_same_both_ways() {
    let catalog = Catalog::load(&common::seeds().join("procedures")).unwrap();
    let (mut engine, profile, procs) = common::seed_engine(MemoryStore::new(), &catalog, 100);
    simulate(&mut engine, &profile, &procs, &SimOptions { seed: 1, batch: 1000, sync: false }).unwrap();
    let store = engine.into_store();
    let (mut direct_lex, mut tree_lex) = (Lexicon::default(), Lexicon::default());
    let mut events = 0;
    store
        .for_each_stream(&mut |code, stream| {
            let text = code.to_string();
            for e in &stream.events {
                let value = (e.actor.as_ref(), &e.event);
                let mut asked_direct = Vec::new();
                let direct = encode(&mut direct_lex, &mut asked_direct, &text, |intern, lean, canon| {
                    compact_from(&value, intern, &text, lean, canon).is_some()
                });
                let mut asked_tree = Vec::new();
                let tree = encode(&mut tree_lex, &mut asked_tree, &text, |intern, lean, canon| {
                    let msgpack = rmp_serde::to_vec(&value).unwrap();
                    compact(&msgpack, intern, &text, lean, canon).is_ok()
                });
                assert_eq!(direct, tree, "{text} event {}: lean and canonical bytes", e.seq);
                assert_eq!(asked_direct, asked_tree, "{text} event {}: dictionary questions", e.seq);
                events += 1;
            }
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert!(events > 10_000, "{events} events compared");
}
