package config

import "github.com/pixform/pixform/addrs"

// validName reports whether s is an HCL identifier, as image and variable
// names must be.
func validName(s string) bool { return addrs.ValidName(s) }
