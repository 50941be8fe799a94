// Command bench is pixform's performance harness: it builds the pixform
// and fakeapi binaries, generates workloads, and measures the figures that
// BENCHMARKS.md reports, each against its target:
//
//	go run ./bench plan    # fresh and no-op plans, linear cost
//	go run ./bench apply   # pixform vs an xargs -P 16 curl loop
//	go run ./bench draft   # the draft renderer's images per second
//	go run ./bench watch   # save → lockfile latency under watch
//	go run ./bench all     # everything, in that order
//
// Run it from the module root. It writes only in a new directory under
// -work (default: $TMPDIR, else /tmp; point either at a fast disk, since
// file creation dominates), talks only to fake APIs it starts on
// 127.0.0.1, bounds every run with a timeout, and removes its processes and
// directories when it ends. It is not part of CI: timings on a shared 2-core machine are
// noisy, so it repeats each run (-runs) and prints the median, min and max.
//
// Every median is also compared with a stored baseline (-baseline, default
// bench/baseline.json, written by an earlier run with -save=FILE): a table
// at the end gives each figure's change and flags those more than 20%
// worse. Timings are compared after dividing each run's by its calibration
// (a fixed hashing and small-file workload timed in the same run), so that
// a slower or busier machine does not read as a regression; memory is
// compared as it is.
package main
