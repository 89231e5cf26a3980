// Package llama2c is tonmesh's built-in inference engine: a pure-Go runner
// for llama2.c legacy checkpoints (Llama architecture: RMSNorm, RoPE,
// grouped-query attention, SwiGLU, a KV cache) with their tokenizer.bin
// BPE tokenizer, so that a worker can serve real inference on CPU with no
// external server. NewBackend exposes a Model through compute/backend.
//
// It owns: the checkpoint and tokenizer file formats (checkpoint.go,
// tokenizer.go), the forward pass (forward.go), sampling (sample.go),
// generation (generate.go), the OpenAI chunk shapes it emits (adapter.go)
// and where the stories260K demo model is looked for (paths.go).
//
// Invariants:
//   - A Model is immutable once Load or Random returns it; every Generate
//     call has its own activations, KV cache and random state, so calls run
//     concurrently without locks.
//   - Loading never panics and never trusts the file: header fields are
//     bounded before any size arithmetic, the file size must match the
//     header exactly, and errors name the file and what is wrong with it.
//   - Generation is deterministic for a given model, prompt, Sampling
//     (temperature 0 is greedy; otherwise the seed fixes the draws) and
//     maxTokens, whatever the number of CPUs: parallel matrix products
//     split rows, never sums.
//   - Emitted text is whole UTF-8 characters, in order, from the calling
//     goroutine, and nothing is emitted after Generate or Complete returns.
//   - Generation stops on BOS or EOS (finish "stop"), at maxTokens or when
//     the context (seq_len) is full (finish "length"), or between two
//     tokens when ctx is cancelled.
package llama2c
