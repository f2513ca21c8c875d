//! The Seedance client against the fake provider, and the generate/status commands.
