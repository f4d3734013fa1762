//! Guidelines-file UI tests live under `tests/`.
