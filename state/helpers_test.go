package state

import "runtime"

func runtimeGosched() { runtime.Gosched() }
