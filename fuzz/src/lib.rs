//! The fuzz targets' checks, also run over the corpus by `cargo test -p privacy-runtime --test
//! file_agreement`.

pub mod oracle;
