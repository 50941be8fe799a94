package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
)

// startProfiles starts the profiles that PIXFORM_CPUPROFILE,
// PIXFORM_MEMPROFILE, PIXFORM_BLOCKPROFILE and PIXFORM_MUTEXPROFILE name
// (files to write), for measuring pixform as a user runs it. The returned function writes them; it is called once the
// command has finished. Neither variable is meant for users; both are
// documented in BENCHMARKS.md (the block and mutex ones
// give the off-CPU view: where goroutines wait).
func startProfiles() func() {
	var stops []func()
	if path := os.Getenv("PIXFORM_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pixform: PIXFORM_CPUPROFILE: %v\n", err)
		} else if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "pixform: PIXFORM_CPUPROFILE: %v\n", err)
			f.Close()
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := os.Getenv("PIXFORM_TRACE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pixform: PIXFORM_TRACE: %v\n", err)
		} else if err := trace.Start(f); err != nil {
			fmt.Fprintf(os.Stderr, "pixform: PIXFORM_TRACE: %v\n", err)
			f.Close()
		} else {
			stops = append(stops, func() { trace.Stop(); f.Close() })
		}
	}
	if path := os.Getenv("PIXFORM_MEMPROFILE"); path != "" {
		runtime.MemProfileRate = 64 << 10
		stops = append(stops, func() {
			f, err := os.Create(path)
			if err != nil {
				fmt.Fprintf(os.Stderr, "pixform: PIXFORM_MEMPROFILE: %v\n", err)
				return
			}
			defer f.Close()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fmt.Fprintf(os.Stderr, "pixform: PIXFORM_MEMPROFILE: %v\n", err)
			}
		})
	}
	for _, p := range []struct{ env, name string }{
		{"PIXFORM_BLOCKPROFILE", "block"},
		{"PIXFORM_MUTEXPROFILE", "mutex"},
	} {
		path := os.Getenv(p.env)
		if path == "" {
			continue
		}
		if p.name == "block" {
			runtime.SetBlockProfileRate(int(10_000)) // one sample per 10 µs blocked
		} else {
			runtime.SetMutexProfileFraction(1)
		}
		name, env := p.name, p.env
		stops = append(stops, func() {
			f, err := os.Create(path)
			if err != nil {
				fmt.Fprintf(os.Stderr, "pixform: %s: %v\n", env, err)
				return
			}
			defer f.Close()
			if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
				fmt.Fprintf(os.Stderr, "pixform: %s: %v\n", env, err)
			}
		})
	}
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}
