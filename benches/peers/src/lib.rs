//! Holds nothing: the benchmark is `benches/peers.rs`.
