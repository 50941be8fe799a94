package views

// palette wraps text in ANSI colours when enabled.
type palette struct{ on bool }

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiDim    = "\x1b[2m"
)

func (p palette) wrap(code, s string) string {
	if !p.on || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (p palette) bold(s string) string   { return p.wrap(ansiBold, s) }
func (p palette) red(s string) string    { return p.wrap(ansiRed, s) }
func (p palette) green(s string) string  { return p.wrap(ansiGreen, s) }
func (p palette) yellow(s string) string { return p.wrap(ansiYellow, s) }
func (p palette) cyan(s string) string   { return p.wrap(ansiCyan, s) }
func (p palette) dim(s string) string    { return p.wrap(ansiDim, s) }
