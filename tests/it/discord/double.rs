//! The double's own rules and shapes.
