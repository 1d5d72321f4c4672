"""The Glicol engine (its WebAssembly build) run in-process with wasmtime."""
