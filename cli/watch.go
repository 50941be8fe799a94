package cli

import "errors"

func (e *env) watch(args []string) int {
	return e.fail(errors.New("watch: not built yet"))
}

func (e *env) gallery(args []string) int {
	return e.fail(errors.New("gallery: not built yet"))
}
