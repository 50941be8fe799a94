// Package views renders everything pixform shows people and machines:
// diagnostics, plans (human, JSON, markdown), apply progress and summaries.
// Stdout carries results; stderr carries diagnostics and progress. Nothing
// here may print the API token: views never receive it.
package views
