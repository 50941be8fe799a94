// Package planfile reads and writes saved plans (pixform plan -out=FILE,
// then pixform apply FILE or pixform show FILE).
//
// A plan file is versioned JSON (FormatVersion): the provider, the changes
// to carry out with their inputs, paths, prior lockfile entries and cost,
// the -var and -var-file flags the plan was made with, and digests of the
// configuration and of the lockfile it was made from, so that apply can
// refuse a plan that the configuration or the lockfile has since outdated.
//
// A plan file comes from outside and is not trusted: Parse checks every
// field against what the planner could have produced (known actions,
// styles, aspect ratios and seeds, safe paths, the planner's own request
// count and price) and refuses anything else with one error that says to
// make a new plan. Write replaces the file atomically.
package planfile
