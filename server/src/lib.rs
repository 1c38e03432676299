//! axum integration for tessera (in progress).
