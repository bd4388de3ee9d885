//! partialdump: dump a consistent, referentially complete subset of a database, following a
//! YAML relationship graph from one or more root rows.
//!
//! Data flow: [`config`] (YAML as written) → [`graph`] (checked against the live schema from an
//! [`engine::Source`], planned) → [`walk`] (every row of the subset read once, in one snapshot,
//! into a [`spool`]) → [`dump`] (rows written in load order, each table in key order) → [`sink`]
//! (SQL text in the source's [`dialect`]).

pub mod budget;
pub mod check;
pub mod cleanse;
pub mod cli;
pub mod config;
pub mod dialect;
pub mod draw;
pub mod dump;
pub mod engine;
pub mod error;
pub mod graph;
pub mod import;
pub mod init;
pub mod interrupt;
pub mod packed;
pub mod plan;
pub mod schema;
pub mod sink;
pub mod spool;
pub mod verify;
pub mod walk;

pub use error::{Error, Result};
