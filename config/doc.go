// Package config loads a working directory's *.pix.hcl files into evaluated,
// validated images, reporting every problem as a ranged HCL diagnostic.
package config
