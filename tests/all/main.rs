//! The workspace's one integration-test binary: engine, scenarios, hostile programs, CLI.

mod authz;
mod classroom;
mod cli;
mod determinism;
mod grading;
mod hostile;
mod roster;
mod runtime;
mod scenarios;
mod server;
mod sim;
mod support;
mod tidy;
