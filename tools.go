//go:build tools

// Package main pins tool and library dependencies until code imports them.
package main

import (
	_ "github.com/fsnotify/fsnotify"
	_ "github.com/hashicorp/go-cty-funcs/crypto"
	_ "github.com/hashicorp/go-cty-funcs/encoding"
	_ "github.com/hashicorp/go-cty-funcs/uuid"
	_ "github.com/hashicorp/hcl/v2"
	_ "github.com/hashicorp/hcl/v2/gohcl"
	_ "github.com/hashicorp/hcl/v2/hclsyntax"
	_ "github.com/hashicorp/hcl/v2/hclwrite"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/zclconf/go-cty/cty"
	_ "github.com/zclconf/go-cty/cty/function/stdlib"
	_ "golang.org/x/image/font/basicfont"
	_ "golang.org/x/sync/errgroup"
	_ "golang.org/x/sys/unix"
	_ "golang.org/x/term"
)

func main() {}
