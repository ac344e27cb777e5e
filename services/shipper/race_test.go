//go:build race

package shipper

// raceEnabled: the race detector slows the shipper several-fold, which
// timing bounds in tests allow for.
const raceEnabled = true
