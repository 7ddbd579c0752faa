//! The workspace's one integration-test binary: engine, scenarios, hostile programs, CLI, server, browser.

mod assess;
mod assignments;
mod authz;
mod browser;
mod classroom;
mod cli;
mod crash;
mod determinism;
mod diagnostics;
mod facts;
mod gradebook;
mod grading;
mod hardening;
mod hostile;
mod language;
mod lessons;
mod process;
mod roster;
mod runtime;
mod scenarios;
mod server;
mod sim;
mod similarity;
mod support;
mod tidy;
mod toolchains;
