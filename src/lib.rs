//! partialdump: dump a consistent, referentially complete subset of a database, following a
//! YAML relationship graph from one or more root rows.
//!
//! Data flow: [`config`] (YAML as written) → [`graph`] (checked against the live schema from an
//! [`engine::Source`], planned) → [`walk`] (keys collected in one snapshot) → [`dump`] (rows
//! fetched in load order) → [`sink`] (SQL text in the source's [`dialect`]).

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
pub mod plan;
pub mod schema;
pub mod sink;
pub mod verify;
pub mod walk;

pub use error::{Error, Result};
