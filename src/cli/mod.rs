//! The user-facing commands.

pub mod helm;
