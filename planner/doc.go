// Package planner diffs the desired images against the lockfile and the
// files on disk. Plan is a pure function: no I/O, no clock, randomness
// injected.
package planner
