//! Against the real `tessera-server` binary (written next).
