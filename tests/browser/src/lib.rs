//! Nothing here: the test is `tests/popup.rs`, which drives examples/miniapp-backend's popup page
//! in headless Chromium. A crate of its own, outside the main workspace (see Cargo.toml).
