//! Client library for tessera plugin hosts (in progress).
