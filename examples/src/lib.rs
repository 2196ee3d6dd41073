//! Runnable examples live in `examples/examples/`; run one with
//! `cargo run -p motcua-examples --example due_dates`.
