// Package storesync makes an image store (object storage a team shares)
// a second place the commit protocol writes to: it wraps state.Store so
// that each image recorded locally is then uploaded, serves the restores
// a plan takes from the store, gathers the store's facts for the planner,
// and pulls and pushes whole lockfiles. The local commit always comes
// first and keeps the guarantees: a store that is down costs an upload
// later, never a request.
package storesync
