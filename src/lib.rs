//! gwtrust: a trust-store manager for presence gateways.
//!
//! A presence server (Cisco Unified Presence, IM and Presence) reads users' Exchange calendars
//! over HTTPS, so it must trust the Exchange server's certificate. gwtrust fetches a server's
//! chain over TLS, pins only its root into a local trust store, checks names the way the
//! presence server does, and makes lab CAs and OWA certificates for test Exchange servers.

pub mod anchors;
pub mod audit;
pub mod capture;
pub mod cert;
pub mod chain;
pub mod cli;
pub mod demo;
pub mod error;
pub mod export;
pub mod fetch;
pub mod files;
pub mod formats;
pub mod gateway;
pub mod import;
pub mod lab;
pub mod names;
pub mod pin;
pub mod policy;
pub mod service;
pub mod target;
pub mod trust_store;
pub mod verify;

pub use error::{Error, ExitStatus, Result};
