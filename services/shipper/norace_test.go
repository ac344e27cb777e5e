//go:build !race

package shipper

const raceEnabled = false
