// Package addrs defines the typed address of an image instance, its textual form and its one canonical order.
package addrs
