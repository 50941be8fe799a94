// Package config loads a working directory's *.pix.hcl files into evaluated,
// validated images, reporting every problem as a ranged HCL diagnostic.
//
// Load reads the configuration files in name order, assigns variables
// (PIXFORM_VAR_* < *.pixvars.hcl < -var-file < -var), evaluates locals in
// dependency order, then the provider block and every image instance with
// a fixed, deterministic function table (Functions). Large files are parsed
// in pieces and image blocks are evaluated on all CPUs; the results and the
// order of diagnostics do not depend on that. Format is the canonical
// layout of pixform fmt.
package config
