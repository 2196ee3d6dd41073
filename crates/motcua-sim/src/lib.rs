//! # motcua-sim: calibrated workloads
//!
//! [`Profile`] is the calibration profile format (`seeds/profiles/*.toml`) with validation that
//! names the field and line of every problem, and [`Profile::scaled`]. [`simulate`] replays a
//! province's year through the engine's public API, deterministically for a seed, reproducing the
//! profile's totals exactly while the engine judges every outcome.

#![warn(missing_docs)]

mod profile;
mod routing;
mod sim;

pub use profile::{
    Behaviour, CalibrationLines, ProcedureShare, Profile, Services, Totals, MAX_COUNT, MAX_SERVICES, PLANNED_BY_CHECK,
};
pub use sim::{
    every_version, plan_year, procedures, simulate, simulate_planned, simulate_with_progress, synthetic_identifier,
    Rng, SimError, SimOptions, SimReport, YearPlan, CHUNK, LAND_SECTOR,
};
