// Package limiter decides when a request to a rate-limited API may start.
//
// Adaptive learns the server's limit from its 429 answers: it starts a few
// requests, and a few more spaced out until the first answer, grows its
// window by one per success (TCP slow start), and on a
// 429 works out whether the server limits how many requests are in flight
// (a concurrency limit) or how many start per second (a rate limit), then
// keeps just under what it learned and probes upward now and then.
//
// A caller takes a Ticket from Acquire before each request and gives it
// back with the request's Outcome to Release, so every outcome is matched
// to its own start. The tuning constants and their reasons are beside the
// code; sim_test.go drives the limiter against models of the benchmark
// servers in virtual time and asserts the figures the tuning must reach.
package limiter
