// Package config is the typed configuration of a tonmesh node: one TOML file
// (FileName, normally in the node's home), two profiles of defaults
// (ProfileTestnet, ProfileServer), environment overrides and validation.
//
// It owns the file format: the names of sections and keys (the toml tags on
// Config), the derived environment variable names (TONMESH_<SECTION>_<KEY>),
// the commented layout that Write produces and the rules Validate enforces.
// It does not own the node's home directory or the variables that are not
// configuration keys (EnvHome, EnvAPI, EnvToken); those belong to the CLI.
//
// Invariants:
//   - Load never returns a Config that fails Validate, and never silently
//     ignores a key it does not know: unknown keys, wrong types and syntax
//     errors are errors that name the key, the line, or both.
//   - Keys absent from the file take the defaults of the profile named in
//     node.profile (server when absent); environment overrides are applied
//     after the file and before validation.
//   - Every error about a value names its key ("p2p.listen") and, when the
//     value came from the environment, the variable; it says what is allowed.
//   - Write refuses an invalid Config, replaces the file atomically with mode
//     0600, and round-trips: Load(path) after Write(path) returns an equal
//     Config (with no TONMESH_ overrides in the environment). Empty lists are
//     represented as nil.
//   - Environment names and Write's layout are derived from the struct tags by
//     reflection, so a new field of type string, bool, int or []string gets
//     its override and its place in the file without further code; it must
//     get a comment in keyDoc (write.go; a test enforces this).
package config
