//! Shared harness for tessera end-to-end tests (in progress).
