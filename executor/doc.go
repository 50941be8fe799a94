// Package executor carries out a plan: it renders through a Provider under
// bounded, adaptive concurrency, retries per the failure class, and records
// every finished image durably before counting it done.
package executor
