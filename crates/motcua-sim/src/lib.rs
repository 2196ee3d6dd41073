//! # motcua-sim: calibrated workloads
//!
//! Today: [`Profile`], the calibration profile format (`seeds/profiles/*.toml`) with validation
//! that names the field and line of every problem, and [`Profile::scaled`]. The deterministic
//! simulator that replays a province's year through the engine comes with issue #5.

#![warn(missing_docs)]

mod profile;

pub use profile::{Behaviour, ProcedureShare, Profile, Services, Totals};
