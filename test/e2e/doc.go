// Package e2e holds end-to-end tests that build the tonmesh binary and drive
// it as a user would: `tonmesh testnet`, the CLI against running daemons, and
// the errors a user sees for bad input.
package e2e
