//! The Seedance 2.0 reference-to-video API client.
