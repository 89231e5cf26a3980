//go:build race

package chat

// raceEnabled: the race detector slows libp2p host start-up about tenfold,
// so the large-group test runs a smaller group under it.
const raceEnabled = true
