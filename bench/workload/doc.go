// Package workload writes the synthetic working directories that pixform's
// benchmarks measure: configurations of many images in the shapes users
// write (many image blocks across files, or one for_each over a large map),
// and, for no-op plans, tiny image files at every declared path with a
// lockfile that records them exactly.
//
// It is shared by the Go benchmarks (cli/bench_test.go) and the
// command-line harness (bench/). Nothing in it touches the network.
package workload
