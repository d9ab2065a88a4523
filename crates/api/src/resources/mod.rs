//! The generic resource API of SPEC §4.

pub mod defs;
pub(crate) mod hooks;
pub mod input;
mod render;
pub mod service;
