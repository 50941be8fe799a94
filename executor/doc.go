// Package executor carries out a plan: it schedules the changes (deletes,
// moves, then renders under bounded, adaptive concurrency), retries per the
// failure class, runs the hooks, and writes each response, transcoded if
// need be, into a temporary file that it hands to a state.Store, which
// places and records it; an image counts as done once the Store has.
package executor
