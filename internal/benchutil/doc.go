// Package benchutil holds what the benchmark commands under scripts/ share:
// latency summaries and ratios in the units their reports use, the
// description of the machine the figures were taken on, the raw measures
// of the machine itself (the process's CPU time, durable writes to its
// disk), the progress printer, and the end of a run (results as a table or
// as JSON on stdout, failures on stderr, the exit status).
//
// It owns no state: each command builds its own Progress and Command and
// keeps its own result types; what is here only formats, computes and
// measures (DurableWrites removes the files it wrote).
//
// Invariants: percentiles are nearest-rank (the smallest sample with at
// least p% of the samples at or below it), so they are always a measured
// value, never an interpolation; milliseconds are rounded to the
// microsecond and seconds to the millisecond; a ratio over zero is 0, never
// Inf or NaN, so every figure encodes as JSON. A Progress is not safe for
// concurrent use: one goroutine (the command's main one) prints with it.
package benchutil
