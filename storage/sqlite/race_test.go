//go:build race

package sqlite_test

// raceEnabled reports whether the race detector is on. It slows
// modernc.org/sqlite, a C library translated to Go, twentyfold.
const raceEnabled = true
