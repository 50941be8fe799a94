// Package cli is the only place pixform parses flags. It wires config,
// state, planner, executor and views together; it holds no logic of its own
// beyond that wiring.
package cli
