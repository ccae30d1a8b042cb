//! The plugin side of [wasm-sandbox](https://docs.rs/wasm-sandbox).
//!
//! Plugin authors will depend on this crate alone to implement a plugin
//! interface and export it as a component. Until the SDK lands, the example
//! plugins in `example-plugins/guests` use `wit-bindgen` directly against the
//! WIT worlds in `wit/`.
